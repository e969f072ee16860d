import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// docs/architecture.md is the newcomer's map: every path it names exists, so a move that forgets the map fails here.
const root = path.resolve(import.meta.dirname, '../..');
const doc = readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');
const SOURCE_FOLDERS = /^(core|config|db|logging|kubernetes|services|operators|runner|executors|scheduler|webserver|cli|bin|bench|dags|test|docs)\//;

/** Backticked names in the text, e.g. `db/transitions.ts` or `ti_deps/`. */
const codeSpans = (text: string) => [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);

describe('docs/architecture.md', () => {
  it('names only paths that exist', () => {
    const named = codeSpans(doc).filter((span) => SOURCE_FOLDERS.test(span) && !/[<>*{ ]/.test(span));
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter((p) => !existsSync(path.join(root, p)))).toEqual([]);
  });

  it('names every file and folder of core/ in the core map, and only those', () => {
    const section = /## Code map: `core\/`\n([\s\S]*?)\n## /.exec(doc)?.[1] ?? '';
    // The first cell of each table row names the files; the rest describes them.
    const firstCells = section.split('\n').flatMap((line) => (/^\| `/.test(line) ? [line.split('|')[1]!] : []));
    const mapped = new Set(firstCells.flatMap(codeSpans));
    const tree = readdirSync(path.join(root, 'core'), { withFileTypes: true }).map((e) => (e.isDirectory() ? `${e.name}/` : e.name));
    expect([...mapped].sort()).toEqual(tree.sort());
  });
});
