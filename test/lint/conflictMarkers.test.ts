import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

// A rebase conflict resolved in a hurry once left its markers in README.md; Prettier does not read Markdown
// here and tsc does not read docs, so this is the check that catches one in any tracked text file.
const root = path.resolve(import.meta.dirname, '../..');
const MARKER = /^(<{7}|={7}|>{7})( |$)/m;

it('no tracked text file holds a merge conflict marker', () => {
  const files = execFileSync('git', ['ls-files', '*.ts', '*.md', '*.json', '*.yaml', '*.yml', '*.ejs', '*.css', '*.cjs', '*.js'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
  expect(files.length).toBeGreaterThan(100);
  const marked = files.filter((file) => MARKER.test(readFileSync(path.join(root, file), 'utf8')));
  expect(marked).toEqual([]);
});
