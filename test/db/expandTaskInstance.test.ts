import { describe, expect, it } from 'vitest';
import { expandTaskInstance } from '../../db/models/taskInstance.ts';
import type { TaskInstanceRow } from '../../db/rows.ts';
import { transitionTaskInstances } from '../../db/transitions.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';

const db = await createTestDatabase();
const knex = db.knex;
const NOW = new Date('2025-06-04T10:30:00Z');

describe('expandTaskInstance', () => {
  it('creates instances scheduled exactly as creating them with no state and moving them to scheduled would leave them', async () => {
    await registerDag(knex, { dagId: 'expand' }, { direct: { retries: 2, priorityWeight: 3 }, moved: { retries: 2, priorityWeight: 3 } });
    const run = await triggerDagRun(knex, { dagId: 'expand', now: NOW });
    const idOf = async (taskId: string) => (await knex('task_instance').where({ dag_id: 'expand', run_id: run.run_id, task_id: taskId }).first('id')).id;
    const direct = await knex.transaction(async (trx) => expandTaskInstance(trx, await idOf('direct'), 4, NOW, 'scheduled'));
    const moved = await knex.transaction(async (trx) => expandTaskInstance(trx, await idOf('moved'), 4, NOW));
    expect(await knex('task_instance').whereIn('id', moved).pluck('state')).toEqual([null, null, null, null]);
    await transitionTaskInstances(knex, moved, { to: 'scheduled', now: NOW });

    const rows = async (ids: number[]) =>
      ((await knex('task_instance').whereIn('id', ids.slice(1)).orderBy('map_index')) as TaskInstanceRow[]).map(({ id: _id, task_id: _task, ...rest }) => rest);
    const created = await rows(direct);
    expect(created.map((r) => [r.map_index, r.state, r.try_number])).toEqual([
      [1, 'scheduled', 1],
      [2, 'scheduled', 1],
      [3, 'scheduled', 1],
    ]);
    expect(created).toEqual(await rows(moved));
    // Row 0 was the -1 row: left with no state for the caller to move.
    expect(await knex('task_instance').where('id', direct[0]).first('map_index', 'state')).toEqual({ map_index: 0, state: null });
  });
});
