/**
 * Where a DAG or task was written: the file and line of the user code that
 * constructed it, for import errors and the serialized DAG.
 *
 * Definition sites cost a formatted, source-mapped stack trace per DAG and
 * task (~0.12 ms each: ~50 ms of a 400-task DAG file's import). The task
 * runner never reports them (the parser does, into the serialized DAG and
 * import errors), so it imports DAG files without them.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where a DAG or task was written; `line` is null when the stack gave no location. */
export interface DefinedAt {
  file: string;
  line: number | null;
}

// On globalThis: a DAG file in a CommonJS folder gets its own (CommonJS) copy of this module.
const SITES_OFF = Symbol.for('airflow-ts.definitionSitesOff');
const sitesOff = globalThis as { [SITES_OFF]?: number };
const NOT_RECORDED: DefinedAt = Object.freeze({ file: '<not recorded when imported by the task runner>', line: null });

export async function withoutDefinitionSites<T>(load: () => Promise<T>): Promise<T> {
  sitesOff[SITES_OFF] = (sitesOff[SITES_OFF] ?? 0) + 1;
  try {
    return await load();
  } finally {
    sitesOff[SITES_OFF]! -= 1;
  }
}

/**
 * Where user code made the current call: the first stack frame outside this
 * package's core/ and operators/ folders, also skipping `skipFrames` (the
 * constructors of user subclasses, e.g. 'new MyOperator').
 */
export function callerLocation(skipFrames: ReadonlySet<string> = new Set()): DefinedAt {
  if ((sitesOff[SITES_OFF] ?? 0) > 0) return NOT_RECORDED;
  // Formatting (and source-mapping) frames is the slow part, so look at a few first, more only if needed.
  for (const depth of [12, 60]) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = depth;
    const stack = new Error().stack ?? '';
    Error.stackTraceLimit = limit;
    const frames = stack.split('\n').flatMap(parseFrame);
    const own = frames[0]; // this function, in core/definitionSite.ts: tells us where the package lives
    if (!own) break;
    const root = path.dirname(path.dirname(own.file));
    const internal = ['core', 'operators'].map((dir) => path.join(root, dir) + path.sep);
    const user = frames.find((f) => !internal.some((dir) => f.file.startsWith(dir)) && !skipFrames.has(f.fn));
    if (user) return { file: user.file, line: user.line };
  }
  return { file: '<unknown>', line: null };
}

/** 'new X' for `ctor` and each class it extends, as V8 names those constructor frames. */
export function constructorFrames(ctor: unknown): Set<string> {
  const names = new Set<string>();
  for (let c = ctor; typeof c === 'function' && c.name; c = Object.getPrototypeOf(c)) names.add(`new ${c.name}`);
  return names;
}

// "    at fn (file:///a/b.ts?v=1:3:7)" or "    at /a/b.ts:3:7" -> { fn, file: '/a/b.ts', line: 3 }
function parseFrame(text: string): { fn: string; file: string; line: number }[] {
  const m = /^\s*at (?:(.*?) \()?(.+?):(\d+):\d+\)?$/.exec(text);
  if (!m || !m[2] || m[2].startsWith('node:')) return [];
  const location = m[2].replace(/\?.*$/, '');
  const file = location.startsWith('file://') ? fileURLToPath(location) : location;
  return [{ fn: m[1] ?? '', file, line: Number(m[3]) }];
}
