import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// docs/architecture.md is the newcomer's map: every path it names exists and its code maps name every file of every
// source folder, so a move or a new file that forgets the map fails here.
const root = path.resolve(import.meta.dirname, '../..');
const doc = readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');
const SOURCE_FOLDERS = /^(core|config|db|logging|kubernetes|services|operators|runner|executors|scheduler|triggerer|webserver|cli|bin|bench|dags|test|docs)\//;

/** Backticked names in the text, e.g. `db/transitions.ts` or `ti_deps/`. */
const codeSpans = (text: string) => [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);

describe('docs/architecture.md', () => {
  it('names only paths that exist', () => {
    const named = codeSpans(doc).filter((span) => SOURCE_FOLDERS.test(span) && !/[<>*{ ]/.test(span));
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter((p) => !existsSync(path.join(root, p)))).toEqual([]);
  });

  it('has a code map that names every file and folder of each source folder, and only what exists', () => {
    const mapped = new Set<string>();
    const mappedFolders = new Set<string>();
    for (const section of doc.split(/^## /m).filter((text) => text.startsWith('Code map:'))) {
      const folders = codeSpans(section.split('\n')[0]!).map((span) => span.replace(/\/$/, ''));
      folders.forEach((folder) => mappedFolders.add(folder));
      // The first cell of each table row names files: full paths, or names relative to the cell's first path
      // (or to the section's only folder).
      for (const line of section.split('\n').filter((l) => l.startsWith('| `'))) {
        let base = folders.length === 1 ? folders[0]! : '';
        codeSpans(line.split('|')[1]!).forEach((span, i) => {
          const full = folders.some((folder) => span.startsWith(`${folder}/`)) ? span : path.posix.join(base, span);
          if (i === 0 && full === span) base = path.posix.dirname(span.replace(/\/$/, ''));
          mapped.add(full.replace(/\/$/, ''));
        });
      }
    }
    expect([...mappedFolders].sort()).toEqual(
      ['cli', 'config', 'core', 'db', 'executors', 'kubernetes', 'logging', 'operators', 'runner', 'scheduler', 'services', 'triggerer', 'webserver'].sort(),
    );
    expect([...mapped].filter((p) => !existsSync(path.join(root, p)))).toEqual([]);
    const unmapped = [...mappedFolders].flatMap((folder) =>
      readdirSync(path.join(root, folder))
        .map((entry) => `${folder}/${entry}`)
        .filter((entry) => ![...mapped].some((p) => p === entry || p.startsWith(`${entry}/`))),
    );
    expect(unmapped).toEqual([]);
  });
});
