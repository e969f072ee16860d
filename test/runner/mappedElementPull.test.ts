import { describe, expect, it } from 'vitest';
import { xcomListElement, xcomsOfTasks } from '../../db/models/xcom.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { parseDags, runDagInProcess, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();

const LIST = [null, { a: { b: [1, null, 'two'] } }, 'text', 3.5, true, [1, [2]], {}, 0, ''];

/** `each` maps over the unmapped `make`'s list (nulls, nested objects and lists); `solo` pushes something that is not a list. */
const DAG_FILE = `import { DAG, getCurrentContext, task } from 'airflow-ts';
const dag = new DAG({ dagId: 'mapped_element_pull' });
const make = task({ dag }, function make() { return ${JSON.stringify(LIST)}; });
const solo = task({ dag }, function solo() { return { not: 'a list' }; });
const each = task({ dag }, function each(x: unknown) { return { x, mapIndex: getCurrentContext().ti.mapIndex }; });
each.expand(make());
solo();
export default dag;
`;

describe('a mapped instance reads only its element of an unmapped upstream list (real parser, in-process executor, real database)', () => {
  it('each instance gets the same element as the whole list holds, nulls and nested values included; out of range and non-lists are told apart', async () => {
    const dags = tempDagsFolder();
    writeDag(dags, 'mapped_element_pull.ts', DAG_FILE);
    const config = await testConfig(dags, db.url);
    await parseDags(config, db.knex);
    const { run, states } = await runDagInProcess(config, db.knex, 'mapped_element_pull');
    expect(run.state).toBe('success');
    expect(states.each).toBe('success');

    const eachValues = await xcomsOfTasks(db.knex, run.id, ['each'], 'return_value');
    expect(eachValues.sort((a, b) => a.mapIndex - b.mapIndex).map((r) => r.value)).toEqual(LIST.map((x, mapIndex) => ({ x, mapIndex })));

    const [whole] = await xcomsOfTasks(db.knex, run.id, ['make'], 'return_value');
    expect(whole!.value).toEqual(LIST);
    for (let i = 0; i < LIST.length; i++) {
      expect(await xcomListElement(db.knex, run.id, 'make', 'return_value', i)).toEqual({ length: LIST.length, element: LIST[i] });
    }
    // Past the end: the length tells the caller (which then reads the whole list and raises the usual error).
    expect(await xcomListElement(db.knex, run.id, 'make', 'return_value', LIST.length)).toEqual({ length: LIST.length, element: null });
    // Not a list, or no such XCom: undefined, the caller reads the whole value for the usual error.
    expect(await xcomListElement(db.knex, run.id, 'solo', 'return_value', 0)).toBeUndefined();
    expect(await xcomListElement(db.knex, run.id, 'nope', 'return_value', 0)).toBeUndefined();
    expect(await xcomListElement(db.knex, run.id, 'make', 'other_key', 0)).toBeUndefined();
  });
});
