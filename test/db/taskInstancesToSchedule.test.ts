import { describe, expect, it } from 'vitest';
import { expandTaskInstance, taskInstancesToSchedule } from '../../db/models/taskInstance.ts';
import { transitionTaskInstances } from '../../db/transitions.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';

const db = await createTestDatabase();
const knex = db.knex;
const NOW = new Date('2025-06-04T10:30:00Z');

describe('taskInstancesToSchedule (what a scheduling pass reads of a run)', () => {
  it('reads every unmapped instance and only the mapped instances a pass may move; the rest as counts per task and state', async () => {
    await registerDag(knex, { dagId: 'reads' }, { up: {}, fan: { upstream: ['up'] }, down: { upstream: ['fan'] } });
    const run = await triggerDagRun(knex, { dagId: 'reads', now: NOW });
    const idOf = async (taskId: string) => (await knex('task_instance').where({ dag_id: 'reads', run_id: run.run_id, task_id: taskId }).first('id')).id;
    await transitionTaskInstances(knex, [await idOf('up')], { to: 'success', now: NOW });
    // fan becomes 6 instances: 3 success, 1 running, 1 up_for_retry, 1 with no state yet.
    const fan = await knex.transaction(async (trx) => expandTaskInstance(trx, await idOf('fan'), 6, NOW));
    const move = async (to: 'scheduled' | 'queued' | 'running' | 'success' | 'up_for_retry', which: number[]) => {
      await transitionTaskInstances(
        knex,
        which.map((i) => fan[i]!),
        { to, now: NOW },
      );
    };
    for (const to of ['scheduled', 'queued', 'running'] as const) await move(to, [0, 1, 2, 3, 4]);
    await move('success', [0, 1, 2]);
    await move('up_for_retry', [4]);

    const { tis, mappedCounts } = await taskInstancesToSchedule(knex, 'reads', run.run_id);
    expect(tis.map((ti) => [ti.task_id, ti.map_index, ti.state]).sort()).toEqual([
      ['down', -1, null],
      ['fan', 4, 'up_for_retry'],
      ['fan', 5, null],
      ['up', -1, 'success'],
    ]);
    expect(tis.find((ti) => ti.map_index === 4)!.id).toBe(fan[4]);
    const counts = Object.fromEntries(mappedCounts.map((c) => [`${c.task_id}:${c.state ?? 'none'}`, c.n]));
    expect(counts).toEqual({ 'fan:success': 3, 'fan:running': 1, 'fan:up_for_retry': 1, 'fan:none': 1 });
  });
});
