import { describe, expect, it } from 'vitest';
import { fileToken } from '../../db/models/dagCode.ts';
import { startTestApi } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const config = await testConfig(tempDagsFolder(), db.url);
const SOURCE = "import { DAG } from 'airflow-ts';\n// ünïcode ✓\nexport default new DAG({ dagId: 'src' });\n";
await db.knex('dag_code').insert({ fileloc: '/dags/src.ts', file_token: fileToken('/dags/src.ts'), source_code: SOURCE });
await registerDag(db.knex, { dagId: 'registered' }, { only: {} });
const api = await startTestApi(db.knex, config);
const token = fileToken('/dags/src.ts');

describe('REST API: DAG sources', () => {
  it('JSON {content} by default and for application/json', async () => {
    const plain = await api.call('GET', `/dagSources/${token}`, { as: 'Viewer' });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toMatch(/application\/json/);
    expect(plain.json).toEqual({ content: SOURCE });
    expect((await api.call('GET', `/dagSources/${token}`, { headers: { accept: 'application/json' } })).json).toEqual({ content: SOURCE });
    expect((await api.call('GET', `/dagSources/${token}`, { headers: { accept: '*/*' } })).json).toEqual({ content: SOURCE });
  });

  it('the text itself for Accept: text/plain; 406 when neither type is acceptable', async () => {
    const text = await api.call('GET', `/dagSources/${token}`, { headers: { accept: 'text/plain' } });
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(text.text).toBe(SOURCE);
    expect((await api.call('GET', `/dagSources/${token}`, { headers: { accept: 'text/html;q=0.9, text/plain;q=0.5' } })).text).toBe(SOURCE);
    expect((await api.call('GET', `/dagSources/${token}`, { headers: { accept: 'image/png' } })).status).toBe(406);
  });

  it("the file_token from GET /dags leads to the DAG's source", async () => {
    const dag = (await api.call('GET', '/dags/registered')).json;
    expect((await api.call('GET', `/dagSources/${dag.file_token}`)).json).toEqual({ content: '// test' });
  });

  it('404 for an unknown token; 401 without credentials', async () => {
    expect((await api.call('GET', '/dagSources/0123456789abcdef0123456789abcdef')).status).toBe(404);
    expect((await api.call('GET', `/dagSources/${encodeURIComponent('../../etc/passwd')}`)).status).toBe(404);
    expect((await api.call('GET', '/dagSources/%00')).status).toBe(400);
    expect((await api.call('GET', `/dagSources/${token}`, { as: null })).status).toBe(401);
  });
});
