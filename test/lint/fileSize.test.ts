import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

// One concept per file keeps files short; a file over 400 lines says why near its top ("Over 400 lines ..."),
// so a file that grows past the limit unnoticed fails here.
const root = path.resolve(import.meta.dirname, '../..');
const LIMIT = 400;

it(`every source file over ${LIMIT} lines states why in its first 20 lines`, () => {
  const files = execFileSync('git', ['ls-files', '*.ts', '*.js', '*.cjs'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
  expect(files.length).toBeGreaterThan(100);
  const unexplained = files.filter((file) => {
    const lines = readFileSync(path.join(root, file), 'utf8').split('\n');
    return lines.length > LIMIT && !lines.slice(0, 20).some((line) => /Over 400 lines/i.test(line));
  });
  expect(unexplained).toEqual([]);
});
