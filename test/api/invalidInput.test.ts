import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { API_ROUTES } from '../../webserver/api/routes/index.ts';
import { startTestApi } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

// Item 9 of issue 12: bad input gets a clean 400 problem, never the SQL that choked on it.
const db = await createTestDatabase();
const config = await testConfig(tempDagsFolder(), db.url);
await registerDag(db.knex, { dagId: 'daily' }, { only: {} });
const api = await startTestApi(db.knex, config);
const SQL = /\b(select|insert|update|delete)\b.*\b(from|into|set|where)\b|\$\d|"task_instance"|"dag_run"|"dag"\b/i;

/** A clean problem: the status, problem JSON, and a detail that names no SQL. */
function expectCleanProblem(response: Awaited<ReturnType<typeof api.call>>, what: string, status = 400): void {
  expect(response.status, `${what}: ${response.text}`).toBe(status);
  expect(response.headers.get('content-type'), what).toMatch(/application\/problem\+json/);
  expect(response.json?.detail, what).not.toMatch(SQL);
}

describe('NUL bytes in requests', () => {
  it('every route answers a clean 400 for a NUL in any path id (walking the route table)', async () => {
    const withIds = API_ROUTES.filter((r) => r.path.includes('{'));
    expect(withIds.length).toBeGreaterThan(20);
    for (const route of withIds) {
      const names = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
      for (const poisoned of names) {
        const path = route.path.replace(/\{([^}]+)\}/g, (_m, name: string) => (name === poisoned ? 'a%00b' : name === 'dag_id' ? 'daily' : '1'));
        const response = await api.call(route.method.toUpperCase(), path, { body: route.method === 'get' || route.method === 'delete' ? undefined : {} });
        expectCleanProblem(response, `${route.method.toUpperCase()} ${path}`);
      }
    }
  });

  it('every query parameter of every GET route answers a clean 400 (or ignores it) for a NUL', async () => {
    for (const route of API_ROUTES.filter((r) => r.method === 'get' && r.query instanceof z.ZodObject)) {
      const path = route.path.replace(/\{([^}]+)\}/g, (_m, name: string) => (name === 'dag_id' ? 'daily' : '1'));
      for (const key of Object.keys((route.query as z.ZodObject).shape)) {
        const response = await api.call('GET', `${path}?${key}=a%00b`);
        if (response.status < 400) continue; // a filter that matched nothing
        if (response.status === 404) continue; // the ids in the path do not exist
        expectCleanProblem(response, `GET ${path}?${key}`);
      }
    }
  });

  it('NUL characters in JSON bodies and in Basic auth answer clean 400 / 401 problems', async () => {
    const bodies: [string, string, unknown][] = [
      ['POST', '/dags/daily/dagRuns', { dag_run_id: 'a\u0000b' }],
      ['POST', '/dags/daily/dagRuns', { conf: { greeting: 'a\u0000b' } }],
      ['POST', '/dags/daily/dagRuns', { note: 'a\u0000b' }],
      ['PATCH', '/dags/daily', { is_paused: true, tags: ['a\u0000'] }],
      ['POST', '/variables', { key: 'k', value: 'a\u0000b' }],
      ['POST', '/pools', { name: 'a\u0000b', slots: 1 }],
    ];
    for (const [method, path, body] of bodies) expectCleanProblem(await api.call(method, path, { body }), `${method} ${path} ${JSON.stringify(body)}`);
    const auth = await api.call('GET', '/dags', { as: null, headers: { authorization: `Basic ${Buffer.from('ad\u0000min:x').toString('base64')}` } });
    expectCleanProblem(auth, 'Basic auth with a NUL in the username');
  });
});
