import knexFactory from 'knex';
import { afterAll, describe, expect, it } from 'vitest';
import { renderedFieldsOf, saveRenderedFields } from '../../db/models/renderedTaskInstanceFields.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';

// Rendered fields are committed without waiting for their WAL flush (display data, one row per mapped
// instance); the setting must stay inside that one statement's transaction.
const db = await createTestDatabase();
// One connection, so the statement after the save runs on the same session.
const single = knexFactory({ client: 'pg', connection: db.url, pool: { min: 1, max: 1 } });
afterAll(() => single.destroy());
await registerDag(db.knex, { dagId: 'd' }, { t: {} });
const run = await triggerDagRun(db.knex, { dagId: 'd', now: new Date('2025-06-04T10:30:00Z') });
const ti = { dag_id: 'd', run_id: run.run_id, task_id: 't', map_index: -1 };
const key = { dagId: 'd', runId: run.run_id, taskId: 't', mapIndex: -1 };

describe('saveRenderedFields', () => {
  it('stores and then replaces a task instance’s rendered fields', async () => {
    await saveRenderedFields(single, ti, { args: [1] });
    expect(await renderedFieldsOf(single, key)).toEqual({ args: [1] });
    await saveRenderedFields(single, ti, { args: ['two', { nested: null }] });
    expect(await renderedFieldsOf(single, key)).toEqual({ args: ['two', { nested: null }] });
  });

  it('turns synchronous_commit off for its own transaction only: the session keeps it on', async () => {
    await saveRenderedFields(single, ti, { args: [4] });
    const { rows } = await single.raw('SHOW synchronous_commit');
    expect(rows[0].synchronous_commit).toBe('on');
  });

  it('refuses to run inside a transaction, whose every write the setting would cover', async () => {
    await expect(single.transaction((trx) => saveRenderedFields(trx, ti, { args: [5] }))).rejects.toThrow(/its own transaction/);
    expect(await renderedFieldsOf(single, key)).toEqual({ args: [4] });
  });
});
