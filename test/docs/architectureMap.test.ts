import { existsSync, readFileSync } from 'node:fs';
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
});
