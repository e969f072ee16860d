/**
 * Dynamic task mapping (Airflow's expand()): an embedding-style pipeline whose fan-out is found at run time.
 *
 *   list_documents -> chunk[0..N-1] -> gather_chunks -> embed[0..M-1] -> build_index
 *
 * `chunk` runs once per document and `embed` once per chunk; how many of each is known only when the
 * run gets there. A task that takes a mapped task's output receives its results in map-index order.
 * The "embedding" is a deterministic fake (no network): a small vector hashed from the text.
 */
import { DAG, getCurrentContext, task } from 'airflow-ts';

const dag = new DAG({
  dagId: 'example_dynamic_mapping',
  description: 'Chunk and embed every document found at run time, then build an index (dynamic task mapping)',
  schedule: null, // manual runs only
  tags: ['example'],
});

interface Document {
  id: string;
  text: string;
}
interface Chunk {
  docId: string;
  position: number;
  text: string;
}
interface Embedded {
  docId: string;
  position: number;
  vector: number[];
}

const listDocuments = task({ dag }, function list_documents(): Document[] {
  return [
    { id: 'intro', text: 'Airflow runs tasks. Tasks form a DAG.' },
    { id: 'mapping', text: 'A mapped task runs once per element. The count is decided at run time. Each instance has a map index.' },
    { id: 'empty', text: '' },
  ];
});

/** Splits a document into sentences (one mapped instance per document). */
const chunk = task({ dag }, function chunk(doc: Document): Chunk[] {
  const sentences = doc.text.split(/(?<=\.)\s+/).filter((s) => s.trim() !== '');
  getCurrentContext().log.info(`Document ${doc.id}: ${sentences.length} chunk(s)`);
  return sentences.map((text, position) => ({ docId: doc.id, position, text }));
});

/** The reduce of `chunk`: every document's chunks, flattened, so `embed` maps over chunks. */
const gatherChunks = task({ dag }, function gather_chunks(perDocument: Chunk[][]): Chunk[] {
  return perDocument.flat();
});

/** A deterministic stand-in for an embedding model: `dimensions` numbers in [0, 1) from the text's characters. */
const embed = task({ dag }, function embed(dimensions: number, piece: Chunk): Embedded {
  const vector = Array.from({ length: dimensions }, () => 0);
  for (let i = 0; i < piece.text.length; i++) vector[i % dimensions] = (vector[i % dimensions]! * 31 + piece.text.charCodeAt(i)) % 1000;
  return { docId: piece.docId, position: piece.position, vector: vector.map((v) => v / 1000) };
});

/** The reduce of `embed`: an index from "doc#position" to its vector. */
const buildIndex = task({ dag }, function build_index(embedded: Embedded[]) {
  const index = Object.fromEntries(embedded.map((e) => [`${e.docId}#${e.position}`, e.vector]));
  getCurrentContext().log.info(`Indexed ${embedded.length} chunk(s)`);
  return { size: embedded.length, keys: Object.keys(index) };
});

buildIndex(embed.partial(4).expand(gatherChunks(chunk.expand(listDocuments()))));

export default dag;
