import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dagSource, tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';

const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.js', import.meta.url));
const LOAD_TASK = fileURLToPath(new URL('../../runner/loadTask.ts', import.meta.url));
const CORE_DAG = fileURLToPath(new URL('../../core/dag.ts', import.meta.url));

describe('the task runner importing a DAG file', () => {
  it("gives a CommonJS DAG file the runner's own airflow-ts classes, and skips recording definition sites (a stack trace per task)", () => {
    const folder = tempDagsFolder(); // no package.json: the DAG file is CommonJS
    const file = writeDag(folder, 'sites.ts', dagSource('sites', ['a', 'b']));
    // In a real child process (as a worker runs), not under vitest's module system.
    const script = path.join(folder, 'probe.mts');
    writeFileSync(
      script,
      [
        `import { loadTask } from ${JSON.stringify(LOAD_TASK)};`,
        `import { DAG } from ${JSON.stringify(CORE_DAG)};`,
        `const { dag, task } = await loadTask(${JSON.stringify(file)}, 'sites', 'a');`,
        `console.log(JSON.stringify([dag.definedAt, task.definedAt, dag instanceof DAG]));`,
      ].join('\n'),
    );
    const result = spawnSync(process.execPath, [RUN_TS, script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    const [dagSite, taskSite, sameClass] = JSON.parse(result.stdout) as [{ line: number | null }, { line: number | null }, boolean];
    expect(dagSite.line).toBeNull();
    expect(taskSite.line).toBeNull();
    expect(sameClass).toBe(true); // one copy of airflow-ts in the process, not a second CommonJS one
  });
});
