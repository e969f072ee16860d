import { pathToFileURL } from 'node:url';
import { isDag, type DAG } from '../../core/dag.ts';
import { takeCreatedDags } from '../../core/dagRegistry.ts';
import { serializeDag } from '../../core/serialize.ts';
import type { ImportProblem, ParsedFile } from './parseResult.ts';

/**
 * Imports one DAG file and serializes the DAGs it exports. Runs only inside a
 * parser child process: this is where user code executes, never in the
 * scheduler or webserver.
 */
export async function importDagFile(file: string): Promise<ParsedFile> {
  const started = performance.now();
  const done = (dags: ParsedFile['dags'], problem: ImportProblem | null): ParsedFile => ({
    file,
    dags,
    problem,
    durationMs: performance.now() - started,
  });
  takeCreatedDags(); // forget DAGs from earlier files of this process
  let mod: Record<string, unknown>;
  try {
    // @ts-expect-error -- plain JS module without types: one copy of airflow-ts for CommonJS DAG files too.
    await (await import('../../bin/resolve-airflow-ts.js')).shareAirflowTs();
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    return done([], describeError(error, file));
  }
  const created = takeCreatedDags();
  const exported = [...new Set(Object.values(mod).filter(isDag))] as DAG[];
  if (exported.length === 0) {
    const names = created.map((d) => `'${d.dagId}'`).join(', ');
    const message = created.length
      ? `${file} creates DAG ${names} but does not export it: add \`export default dag\` (every exported DAG is registered)`
      : `${file} exports no DAG: create one with new DAG({...}) and \`export default dag\`, or add the file to .airflowignore`;
    return done([], { message, line: created[0]?.definedAt?.line ?? null, stacktrace: message });
  }
  const seen = new Map<string, DAG>();
  const dags = [];
  for (const dag of exported) {
    const other = seen.get(dag.dagId);
    if (other) {
      const message = `${file} defines DAG id '${dag.dagId}' twice (lines ${other.definedAt?.line ?? '?'} and ${dag.definedAt?.line ?? '?'}); DAG ids must be unique`;
      return done([], { message, line: dag.definedAt?.line ?? null, stacktrace: message });
    }
    seen.set(dag.dagId, dag);
    try {
      dags.push(serializeDag(dag));
    } catch (error) {
      const problem = describeError(error, file);
      return done([], { ...problem, line: problem.line ?? dag.definedAt?.line ?? null });
    }
  }
  return done(dags, null);
}

/** Turns anything thrown while importing into a message that names the file and line. */
export function describeError(error: unknown, file: string): ImportProblem {
  const err = error instanceof Error ? error : new Error(String(error));
  const stacktrace = err.stack ?? `${err.name}: ${err.message}`;
  const line = lineIn(`${err.message}\n${stacktrace}`, file);
  const where = line ? `${file}:${line}` : file;
  const firstLine = err.message.split('\n')[0] ?? '';
  return { message: `${err.name}: ${firstLine} (${where})`, line, stacktrace: cleanStack(stacktrace) };
}

function lineIn(text: string, file: string): number | null {
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // Stack frames ("file:///x.ts:12:5", "/x.ts:12:5") and esbuild messages ("/x.ts:12:5: ERROR").
  const match = new RegExp(`${escaped}(?:\\?[^:\\s]*)?:(\\d+)(?::\\d+)?`).exec(text);
  return match ? Number(match[1]) : null;
}

/** Drops frames from Node internals and our own loader so the user's frames stand out. */
function cleanStack(stack: string): string {
  return stack
    .split('\n')
    .filter((l) => !/\(node:|at node:|node_modules\/tsx\/|dagProcessing\/|\/bin\/register\.js/.test(l))
    .join('\n');
}
