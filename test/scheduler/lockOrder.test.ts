import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import type { SerializedDag } from '../../core/serialize.ts';
import { sqlState } from '../../db/pgErrors.ts';
import { transitionDagRun, transitionTaskInstances } from '../../db/transitions.ts';
import type { DagRunRow } from '../../db/rows.ts';
import { scheduleDagRuns } from '../../scheduler/scheduleDagRuns.ts';
import { clearTaskInstances } from '../../services/clearTaskInstances.ts';
import { markTaskInstances } from '../../services/markTaskInstances.ts';
import { setDagRunState } from '../../services/setDagRunState.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';

// Item 8 of issue 12: mark, clear and set-run-state (API, UI, CLI) take their locks in the
// scheduler's order (dag run, then task instances), so running them against the
// scheduler's decisions on the same runs, on real concurrent connections, never deadlocks.
const { knex } = await createTestDatabase();
const ROUNDS = Number(process.env.ROUNDS ?? 150);
const fanOut = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'];
const dag: SerializedDag = await registerDag(knex, { dagId: 'contended' }, { a: {}, ...Object.fromEntries(fanOut.map((t) => [t, { upstream: ['a'] }])) });
const runs: DagRunRow[] = [];
for (let i = 0; i < 3; i++) runs.push(await triggerDagRun(knex, { dagId: 'contended', runId: `r${i}`, now: new Date() }));
const logger = memoryLogger();

/** Runs `step` ROUNDS times, keeping every error it throws. */
async function loop(errors: unknown[], step: (round: number) => Promise<unknown>): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    try {
      await step(round);
    } catch (error) {
      errors.push(error);
    }
  }
}

describe('lock order of mark and clear against the scheduler', () => {
  it('mark, clear, set-run-state, a finishing worker and the scheduler on the same runs at once: no deadlock', async () => {
    const errors: unknown[] = [];
    const run = (round: number) => runs[round % runs.length]!;
    await Promise.all([
      // The scheduler deciding the runs (dag run locked, then its task instances written).
      loop(errors, () => scheduleDagRuns(knex, { now: new Date(), maxActiveRunsPerDag: 16, logger })),
      // Workers finishing what the scheduler scheduled, some failing.
      loop(errors, async (round) => {
        const ids = (await knex('task_instance').where('state', 'scheduled').pluck('id')) as number[];
        await transitionTaskInstances(knex, ids, { to: round % 3 === 0 ? 'failed' : 'success', now: new Date() });
      }),
      loop(errors, (round) =>
        markTaskInstances(knex, {
          dag,
          run: run(round),
          taskIds: ['a'],
          downstream: round % 2 === 0,
          state: round % 4 < 2 ? 'success' : 'failed',
          dryRun: false,
          now: new Date(),
        }),
      ),
      loop(errors, (round) =>
        clearTaskInstances(knex, { dag, runIds: [run(round + 1).run_id, run(round + 2).run_id], taskIds: ['a'], downstream: true, now: new Date() }),
      ),
      loop(errors, (round) =>
        clearTaskInstances(knex, { dag, runIds: [run(round).run_id], taskIds: fanOut, onlyStates: ['failed', 'success'], now: new Date() }),
      ),
      loop(errors, (round) =>
        setDagRunState(knex, {
          dagId: 'contended',
          runId: run(round + 2).run_id,
          state: (['success', 'failed', 'queued'] as const)[round % 3]!,
          dag,
          now: new Date(),
        }),
      ),
      loop(errors, (round) =>
        setDagRunState(knex, {
          dagId: 'contended',
          runId: run(round).run_id,
          state: (['failed', 'queued', 'success'] as const)[round % 3]!,
          dag,
          now: new Date(),
        }),
      ),
    ]);
    expect(errors.filter((e) => sqlState(e) === '40P01').map(String)).toEqual([]);
    expect(errors.map(String)).toEqual([]);
  });

  it("a clear gives each task instance its own task's retries back (one statement for all rows)", async () => {
    const retrying = await registerDag(knex, { dagId: 'retries_back' }, { once: { retries: 1 }, thrice: { retries: 3 } });
    const run = await triggerDagRun(knex, { dagId: 'retries_back', runId: 'r', now: new Date() });
    const ids = (await knex('task_instance').where('dag_id', 'retries_back').pluck('id')) as number[];
    for (const to of ['scheduled', 'queued', 'running', 'failed'] as const) await transitionTaskInstances(knex, ids, { to, now: new Date() });
    for (const to of ['running', 'failed'] as const) await transitionDagRun(knex, run.id, { to, now: new Date() });
    const cleared = await clearTaskInstances(knex, { dag: retrying, runIds: [run.run_id], taskIds: ['once', 'thrice'], now: new Date() });
    expect(cleared).toHaveLength(2);
    const rows = await knex('task_instance').where('dag_id', 'retries_back').orderBy('task_id').select('task_id', 'state', 'try_number', 'max_tries');
    expect(rows).toEqual([
      { task_id: 'once', state: null, try_number: 1, max_tries: 2 },
      { task_id: 'thrice', state: null, try_number: 1, max_tries: 4 },
    ]);
    expect((await knex('dag_run').where('id', run.id).first('state')).state).toBe('queued');
  });
});
