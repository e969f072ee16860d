import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURE_DAGS = fileURLToPath(new URL('../fixtures/dags/', import.meta.url));

/** A dags folder outside the repo (no package.json, no node_modules) holding the named fixtures. */
export function tempDagsFolder(fixtures: string[] = []): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-dags-'));
  for (const name of fixtures) copyFileSync(path.join(FIXTURE_DAGS, name), path.join(dir, name));
  return dir;
}

/** Source of a small valid DAG file, for tests that edit files on the fly. */
export function dagSource(dagId: string, taskIds: string[]): string {
  const tasks = taskIds.map((t) => `const ${t} = new EmptyOperator({ dag, taskId: '${t}' });`).join('\n');
  const chain = taskIds.length > 1 ? `${taskIds.join('.then(')}${')'.repeat(taskIds.length - 1)};` : '';
  return `import { DAG, EmptyOperator } from 'airflow-ts';\nconst dag = new DAG({ dagId: '${dagId}' });\n${tasks}\n${chain}\nexport default dag;\n`;
}

export function writeDag(dir: string, file: string, source: string): string {
  const full = path.join(dir, file);
  writeFileSync(full, source);
  return full;
}
