import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { DagFileParser } from '../../scheduler/dagProcessing/dagFileParser.ts';
import { DagFileProcessor, type FileOutcome } from '../../scheduler/dagProcessing/dagFileProcessor.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { dagSource, tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTcpProxy, throughProxy } from '../helpers/tcpProxy.ts';
import { connect } from '../../db/database.ts';

const db = await createTestDatabase();
const processors: DagFileProcessor[] = [];

function processorFor(folder: string, timeoutMs = 20_000, { knex = db.knex, logger = memoryLogger() } = {}): DagFileProcessor {
  const processor = new DagFileProcessor({
    knex,
    folders: [folder],
    parser: new DagFileParser({ timeoutMs, concurrency: 2, logger }),
    logger,
    pausedAtCreation: true,
    catchupByDefault: true,
    safeMode: true,
    rescanIntervalMs: 300_000,
  });
  processors.push(processor);
  return processor;
}

afterEach(async () => {
  await Promise.all(processors.splice(0).map((p) => p.stop()));
});

/** Resolves with the next outcome for `file` matching `predicate`, or fails after the deadline. */
function nextOutcome(processor: DagFileProcessor, file: string, predicate: (o: FileOutcome) => boolean = () => true, timeoutMs = 20_000): Promise<FileOutcome> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching outcome for ${file} within ${timeoutMs} ms`)), timeoutMs);
    const listener = (outcome: FileOutcome) => {
      if (outcome.file !== file || !predicate(outcome)) return;
      clearTimeout(timer);
      processor.off('processed', listener);
      resolve(outcome);
    };
    processor.on('processed', listener);
  });
}

const importError = async (file: string) => db.knex('import_error').where('filename', file).first();

describe('DagFileProcessor.processAll', () => {
  it('records good DAGs and turns every kind of broken file into an import error naming file and line', async () => {
    const folder = tempDagsFolder([
      'good.ts',
      'throws.ts',
      'syntax_error.ts',
      'infinite_loop.ts',
      'cycle.ts',
      'exports_nothing.ts',
      'process_exit.ts',
      'helper_module.ts',
    ]);
    const outcomes = await processorFor(folder, 3_000).processAll();
    const byName = Object.fromEntries(outcomes.map((o) => [path.basename(o.file), o]));

    expect(Object.keys(byName).sort()).toEqual([
      'cycle.ts',
      'exports_nothing.ts',
      'good.ts',
      'infinite_loop.ts',
      'process_exit.ts',
      'syntax_error.ts',
      'throws.ts',
    ]);
    expect(byName['good.ts']).toMatchObject({ kind: 'parsed', dagIds: ['fixture_good'], changed: ['fixture_good'] });

    const dag = await db.knex('dag').where('dag_id', 'fixture_good').first();
    expect(dag).toMatchObject({ is_active: true, is_paused: true, fileloc: path.join(folder, 'good.ts'), tags: ['fixture'], timetable_summary: '@daily' });
    const serialized = await db.knex('serialized_dag').where('dag_id', 'fixture_good').first();
    expect(serialized.data.tasks.map((t: { taskId: string }) => t.taskId)).toEqual(['start', 'end']);
    expect(serialized.dag_hash).toMatch(/^[0-9a-f]{64}$/);

    const throws = await importError(path.join(folder, 'throws.ts'));
    expect(throws.message).toMatch(/the warehouse is down/);
    expect(throws.message).toContain(`${path.join(folder, 'throws.ts')}:4`);
    expect(throws.line).toBe(4);

    const syntax = await importError(path.join(folder, 'syntax_error.ts'));
    expect(syntax.message).toContain('syntax_error.ts');
    expect(syntax.line).toBe(3);

    const loop = await importError(path.join(folder, 'infinite_loop.ts'));
    expect(loop.message).toMatch(/took longer than 3 s.*dagbagImportTimeout/);

    const cycle = await importError(path.join(folder, 'cycle.ts'));
    expect(cycle.message).toMatch(/Cycle detected in DAG 'fixture_cycle': (a -> b -> a|b -> a -> b)/);
    expect(cycle.message).toContain('cycle.ts');

    const nothing = await importError(path.join(folder, 'exports_nothing.ts'));
    expect(nothing.message).toMatch(/creates DAG 'fixture_not_exported' but does not export it: add `export default dag`/);

    const exit = await importError(path.join(folder, 'process_exit.ts'));
    expect(exit.message).toMatch(/parser process exited \(code 3\)/);

    expect(await db.knex('dag').where('dag_id', 'like', 'fixture_%').pluck('dag_id')).toEqual(['fixture_good']);
  });

  it('does not rewrite serialized_dag when nothing changed, and deactivates DAGs of deleted files', async () => {
    const folder = tempDagsFolder();
    const file = writeDag(folder, 'steady.ts', dagSource('steady_dag', ['a', 'b']));
    const processor = processorFor(folder);
    expect((await processor.processAll())[0]).toMatchObject({ kind: 'parsed', changed: ['steady_dag'] });
    const before = await db.knex('serialized_dag').where('dag_id', 'steady_dag').first('last_updated');
    expect((await processor.processAll())[0]).toMatchObject({ kind: 'parsed', changed: [] });
    expect(await db.knex('serialized_dag').where('dag_id', 'steady_dag').first('last_updated')).toEqual(before);

    rmSync(file);
    const outcomes = await processor.processAll();
    expect(outcomes).toEqual([expect.objectContaining({ file, kind: 'removed' })]);
    expect(await db.knex('dag').where('dag_id', 'steady_dag').first('is_active')).toEqual({ is_active: false });
  });

  it('keeps unpaused DAGs unpaused across re-parses and rejects a DAG id defined by two files', async () => {
    const folder = tempDagsFolder();
    writeDag(folder, 'first.ts', dagSource('shared_id', ['a']));
    const processor = processorFor(folder);
    await processor.processAll();
    await db.knex('dag').where('dag_id', 'shared_id').update({ is_paused: false });
    const second = writeDag(folder, 'second.ts', dagSource('shared_id', ['b']));
    await processor.processAll();
    expect(await db.knex('dag').where('dag_id', 'shared_id').first('is_paused', 'fileloc')).toEqual({
      is_paused: false,
      fileloc: path.join(folder, 'first.ts'),
    });
    expect((await importError(second)).message).toMatch(/DAG id 'shared_id' is already defined in .*first\.ts/);
  });

  it('loads DAG files from a folder whose package.json says "type": "module"', async () => {
    const folder = tempDagsFolder();
    writeFileSync(path.join(folder, 'package.json'), '{ "type": "module" }\n');
    writeDag(folder, 'esm.ts', dagSource('esm_dag', ['x']));
    mkdirSync(path.join(folder, 'nested'));
    writeDag(path.join(folder, 'nested'), 'deep.mts', dagSource('nested_dag', ['y']));
    const outcomes = await processorFor(folder).processAll();
    expect(outcomes.map((o) => [o.kind, o.dagIds]).sort((a, b) => String(a[1]).localeCompare(String(b[1])))).toEqual([
      ['parsed', ['esm_dag']],
      ['parsed', ['nested_dag']],
    ]);
  });
});

describe('DagFileProcessor watching', () => {
  it('watches a dags folder that lives under a dot-folder (~/.airflow/dags), still skipping dot-files inside it', async () => {
    const folder = path.join(tempDagsFolder(), '.airflow', 'dags');
    mkdirSync(folder, { recursive: true });
    const processor = processorFor(folder);
    await processor.start();
    const file = path.join(folder, 'hidden_home.ts');
    const outcome = nextOutcome(processor, file);
    writeDag(folder, '.scratch.ts', dagSource('scratch_dag', ['x']));
    writeDag(folder, 'hidden_home.ts', dagSource('hidden_home_dag', ['a']));
    expect(await outcome).toMatchObject({ kind: 'parsed', dagIds: ['hidden_home_dag'] });
    expect(await db.knex('dag').where('dag_id', 'scratch_dag').first()).toBeUndefined();
  });

  it('reflects added, changed, broken, fixed and deleted files', async () => {
    const folder = tempDagsFolder();
    const processor = processorFor(folder);
    await processor.start();
    const file = path.join(folder, 'live.ts');

    let outcome = nextOutcome(processor, file);
    writeDag(folder, 'live.ts', dagSource('live_dag', ['extract']));
    expect(await outcome).toMatchObject({ kind: 'parsed', dagIds: ['live_dag'], changed: ['live_dag'] });

    outcome = nextOutcome(processor, file);
    writeDag(folder, 'live.ts', dagSource('live_dag', ['extract', 'load']));
    expect(await outcome).toMatchObject({ kind: 'parsed', changed: ['live_dag'] });
    const tasks = (await db.knex('serialized_dag').where('dag_id', 'live_dag').first('data')).data.tasks;
    expect(tasks.map((t: { taskId: string }) => t.taskId)).toEqual(['extract', 'load']);

    outcome = nextOutcome(processor, file);
    writeDag(folder, 'live.ts', "import { DAG } from 'airflow-ts';\nthrow new Error('half-edited');\n");
    expect(await outcome).toMatchObject({ kind: 'import_error' });
    expect((await importError(file)).message).toMatch(/half-edited/);
    expect(await db.knex('dag').where('dag_id', 'live_dag').first('has_import_errors', 'is_active')).toEqual({ has_import_errors: true, is_active: true });

    outcome = nextOutcome(processor, file);
    writeDag(folder, 'live.ts', dagSource('live_dag', ['extract', 'load']));
    expect(await outcome).toMatchObject({ kind: 'parsed' });
    expect(await importError(file)).toBeUndefined();

    outcome = nextOutcome(processor, file);
    rmSync(file);
    expect(await outcome).toMatchObject({ kind: 'removed' });
    expect(await db.knex('dag').where('dag_id', 'live_dag').first('is_active')).toEqual({ is_active: false });
  });
});

describe('DagFileProcessor start and stop', () => {
  it('scans in the background after start, and a stop mid-scan abandons the files not reached without deactivating their DAGs', async () => {
    const folder = tempDagsFolder();
    writeDag(folder, 'a_known.ts', dagSource('known_dag', ['x']));
    await processorFor(folder).processAll();
    // A file whose import blocks until its process is killed, sorted after the known one.
    writeDag(
      folder,
      'b_hangs.ts',
      "import { DAG } from 'airflow-ts';\nAtomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);\nexport default new DAG({ dagId: 'never' });\n",
    );
    const processor = processorFor(folder);
    const scanned = nextOutcome(processor, path.join(folder, 'a_known.ts'));
    await processor.start(); // returns while the scan runs
    expect(await scanned).toMatchObject({ kind: 'parsed' });
    await processor.stop(); // must not wait for b_hangs.ts (its timeout is 20 s)
    expect(await db.knex('dag').where('dag_id', 'known_dag').first('is_active')).toEqual({ is_active: true });
    expect(await db.knex('import_error').where('filename', path.join(folder, 'b_hangs.ts')).first()).toBeUndefined();
  });

  it('a file over the import timeout is killed with the processes it started', async () => {
    const folder = tempDagsFolder();
    const pidFile = path.join(folder, 'sleep.pid');
    writeDag(
      folder,
      'spawns_and_hangs.ts',
      `import { DAG } from 'airflow-ts';\nimport { spawn } from 'node:child_process';\nimport { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(pidFile)}, String(spawn('sleep', ['300'], { stdio: 'ignore' }).pid));\nAtomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);\nexport default new DAG({ dagId: 'never' });\n`,
    );
    const [outcome] = await processorFor(folder, 3_000).processAll();
    expect(outcome).toMatchObject({ kind: 'import_error' });
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    const alive = () => {
      try {
        process.kill(sleeper, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      await eventually('the sleep the DAG file started to be gone', () => !alive(), 10_000);
    } finally {
      if (alive()) process.kill(sleeper, 'SIGKILL');
    }
  });
});

describe('DagFileProcessor when the database goes away', () => {
  it('logs the failed batch and keeps watching: the scheduler is not taken down, and the file is recorded once the database is back', async () => {
    const upstream = new URL(db.url);
    const proxy = await startTcpProxy({ host: upstream.hostname, port: Number(upstream.port) });
    const viaProxy = connect(throughProxy(db.url, proxy.port));
    const folder = tempDagsFolder();
    const logger = memoryLogger();
    const processor = processorFor(folder, 20_000, { knex: viaProxy.knex, logger });
    try {
      await processor.start();
      await proxy.cut();
      writeDag(folder, 'during_outage.ts', dagSource('during_outage', ['only']));
      await eventually('the failed batch to be logged', () => logger.entries.some((e) => e.level === 'error' && e.message === 'processing DAG files failed'));
      await proxy.restore();
      const back = nextOutcome(processor, path.join(folder, 'during_outage.ts'), (o) => o.kind === 'parsed');
      writeDag(folder, 'during_outage.ts', `${dagSource('during_outage', ['only'])}\n// touched after the outage\n`);
      await back;
      expect(await db.knex('dag').where('dag_id', 'during_outage').first('is_active')).toEqual({ is_active: true });
    } finally {
      await processor.stop();
      await viaProxy.close();
    }
  });
});
