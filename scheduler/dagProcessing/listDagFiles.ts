import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Extensions a DAG file may have; declaration files are never DAGs. */
export const DAG_FILE_PATTERN = /\.(?:[cm]?ts|[cm]?js)$/;

export function isCandidateFile(file: string): boolean {
  return DAG_FILE_PATTERN.test(file) && !file.endsWith('.d.ts');
}

/**
 * Airflow's safe mode: a file is only imported if its source mentions both
 * "airflow" and "dag", so helper modules in the dags folder are not run as DAGs.
 */
export function looksLikeDagFile(source: string): boolean {
  const lower = source.toLowerCase();
  return lower.includes('airflow') && lower.includes('dag');
}

/**
 * Every candidate file under `folder` (sorted), skipping node_modules, dot
 * folders and paths matched by a `.airflowignore` (one regular expression per
 * line, matched against the path relative to the dags folder, like Airflow's
 * default "regexp" syntax; `#` starts a comment). Ignore files apply to their
 * own folder and the folders below it.
 */
export function listDagFiles(folder: string): string[] {
  const files: string[] = [];
  const walk = (dir: string, ignores: RegExp[]) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // a missing dags folder simply has no DAGs
    }
    const here = [...ignores, ...readIgnoreFile(dir)];
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = path.join(dir, entry.name);
      const relative = path.relative(folder, full);
      if (here.some((re) => re.test(relative))) continue;
      if (entry.isDirectory()) walk(full, here);
      else if ((entry.isFile() || (entry.isSymbolicLink() && statSync(full, { throwIfNoEntry: false })?.isFile())) && isCandidateFile(entry.name))
        files.push(full);
    }
  };
  walk(folder, []);
  return files;
}

function readIgnoreFile(dir: string): RegExp[] {
  let text: string;
  try {
    text = readFileSync(path.join(dir, '.airflowignore'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean)
    .flatMap((pattern) => {
      try {
        return [new RegExp(pattern)];
      } catch {
        return []; // an invalid pattern ignores nothing rather than everything
      }
    });
}
