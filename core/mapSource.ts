/**
 * A list a mapped task maps over, as written in the DAG file: a literal list
 * or an XComArg (a task output, maybe derived with map/zip/concat). Checked
 * where the DAG file writes it, serialized for the scheduler (which only
 * needs its length), and read element by element in the worker.
 */
import type { SerializedMapSource } from './expandInput.ts';
import { jsonProblem } from './param.ts';
import type { TaskInstanceHandle } from './taskContext.ts';
import { findXComArgs, isXComArg, serializeXComArgs, type XComArg } from './xcomArg.ts';

export type MapSource = readonly unknown[] | XComArg;

/** Why `value` cannot be mapped over (null: it can); `what` names it, e.g. "expand()" or "expand() field 'env'". */
export function mapSourceProblem(value: unknown, what: string): string | null {
  if (isXComArg(value)) return null;
  if (!Array.isArray(value)) return `${what} takes a list or a task output, got ${value === null ? 'null' : typeof value}`;
  if (findXComArgs(value).length > 0) return `${what} list elements must be JSON values: it holds a task output; map over the output itself`;
  const problem = jsonProblem(serializeXComArgs(value), what);
  return problem ? `${what} list elements must be JSON values: ${problem}` : null;
}

export function serializeMapSource(source: MapSource): SerializedMapSource {
  return isXComArg(source) ? source.serialize() : { literal: [...source] };
}

/** The element a mapped instance gets: the literal list's, or the XComArg's (its map function applied), at `index`. */
export async function mapSourceElement(source: MapSource, ti: TaskInstanceHandle, index: number): Promise<unknown> {
  if (isXComArg(source)) return source.elementAt(ti, index);
  if (index < 0 || index >= source.length)
    throw new Error(`its literal list has no element at map index ${index} (the task was not expanded, or its input changed)`);
  return source[index];
}
