import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dagSource, tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';

const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.js', import.meta.url));
const LOAD_TASK = fileURLToPath(new URL('../../runner/loadTask.ts', import.meta.url));

describe('the task runner importing a DAG file', () => {
  it('skips recording definition sites (a stack trace per task), also in a CommonJS folder that gets its own copy of airflow-ts', () => {
    const folder = tempDagsFolder(); // no package.json: the DAG file is CommonJS
    const file = writeDag(folder, 'sites.ts', dagSource('sites', ['a', 'b']));
    // In a real child process (as a worker runs), not under vitest's module system.
    const script = path.join(folder, 'probe.mts');
    writeFileSync(
      script,
      `import { loadTask } from ${JSON.stringify(LOAD_TASK)};\nconst { dag, task } = await loadTask(${JSON.stringify(file)}, 'sites', 'a');\nconsole.log(JSON.stringify([dag.definedAt, task.definedAt]));\n`,
    );
    const result = spawnSync(process.execPath, [RUN_TS, script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    const [dagSite, taskSite] = JSON.parse(result.stdout) as { line: number | null }[];
    expect(dagSite!.line).toBeNull();
    expect(taskSite!.line).toBeNull();
  });
});
