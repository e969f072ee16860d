import type { SerializedDag } from '../../core/serialize.ts';

/** Why a DAG file could not be loaded, as recorded in import_error. */
export interface ImportProblem {
  message: string;
  /** 1-based line in the DAG file, when it can be told. */
  line: number | null;
  stacktrace: string;
}

/** What parsing one DAG file produced: its DAGs, or the problem. Crosses the child-process boundary as JSON. */
export interface ParsedFile {
  file: string;
  dags: SerializedDag[];
  problem: ImportProblem | null;
  durationMs: number;
}
