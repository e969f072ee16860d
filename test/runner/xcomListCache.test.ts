import { describe, expect, it } from 'vitest';
import { clearXComs, pushXCom, xcomValueUnlessKnown } from '../../db/models/xcom.ts';
import { XComListCache } from '../../runner/xcomListCache.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { dagSource, tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const dags = tempDagsFolder();
writeDag(dags, 'lists.ts', dagSource('lists', ['make']));
await parseDags(await testConfig(dags, db.url), db.knex);
const run = await triggerDagRun(db.knex, { dagId: 'lists', now: new Date() });
const key = { dagRunId: run.id, dagId: 'lists', runId: run.run_id, taskId: 'make', mapIndex: -1 };
const push = (value: unknown) => pushXCom(db.knex, key, 'return_value', value, 10_000_000);
const LIST = [null, { a: [1, 'two'] }, 'text', 3.5, true, [1, [2]], {}, 0, ''];

describe("a worker's cache of the upstream lists its mapped instances read (real database)", () => {
  it('returns each element and the length as the stored list has them, nulls and nested values included; past the end the element is null', async () => {
    await push(LIST);
    const cache = new XComListCache();
    for (let i = 0; i < LIST.length; i++)
      expect(await cache.element(db.knex, run.id, 'make', 'return_value', i)).toEqual({ length: LIST.length, element: LIST[i] });
    expect(await cache.element(db.knex, run.id, 'make', 'return_value', LIST.length)).toEqual({ length: LIST.length, element: null });
  });

  it('the database sends the value only to a reader that does not hold its current version', async () => {
    await push(['a', 'b']);
    const first = await xcomValueUnlessKnown(db.knex, run.id, 'make', 'return_value', null, 1_000_000);
    expect(first).toMatchObject({ value: ['a', 'b'], tooLarge: false });
    const again = await xcomValueUnlessKnown(db.knex, run.id, 'make', 'return_value', first!.version, 1_000_000);
    expect(again).toEqual({ version: first!.version, value: null, tooLarge: false });
    await push(['c']); // a rerun's push rewrites the row: a new version
    const after = await xcomValueUnlessKnown(db.knex, run.id, 'make', 'return_value', first!.version, 1_000_000);
    expect(after!.version).not.toBe(first!.version);
    expect(after!.value).toEqual(['c']);
  });

  it('sees a rerun that pushed a new list, a cleared XCom and a value that is not a list at once', async () => {
    const cache = new XComListCache();
    await push([1, 2, 3]);
    expect(await cache.element(db.knex, run.id, 'make', 'return_value', 2)).toEqual({ length: 3, element: 3 });
    await push([10, 20]);
    expect(await cache.element(db.knex, run.id, 'make', 'return_value', 1)).toEqual({ length: 2, element: 20 });
    await clearXComs(db.knex, run.id, [{ taskId: 'make', mapIndex: -1 }]);
    expect(await cache.element(db.knex, run.id, 'make', 'return_value', 0)).toBeUndefined();
    await push({ not: 'a list' });
    expect(await cache.element(db.knex, run.id, 'make', 'return_value', 0)).toBeUndefined();
    await push(['back']);
    expect(await cache.element(db.knex, run.id, 'make', 'return_value', 0)).toEqual({ length: 1, element: 'back' });
  });

  it('a list larger than its limit as stored is read element by element in SQL, with the same answers', async () => {
    const big = Array.from({ length: 2000 }, (_, i) => `element ${i} ${'x'.repeat(i % 50)}`);
    await push(big);
    const cache = new XComListCache({ maxBytes: 1024, maxEntries: 4 });
    const row = await xcomValueUnlessKnown(db.knex, run.id, 'make', 'return_value', null, 1024);
    expect(row).toMatchObject({ value: null, tooLarge: true });
    for (const i of [0, 1, 1999]) expect(await cache.element(db.knex, run.id, 'make', 'return_value', i)).toEqual({ length: 2000, element: big[i] });
    expect(await cache.element(db.knex, run.id, 'make', 'return_value', 2000)).toEqual({ length: 2000, element: null });
  });
});
