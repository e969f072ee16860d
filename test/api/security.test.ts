import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { createDueDagRuns } from '../../scheduler/createDueDagRuns.ts';
import { API_ROUTES } from '../../webserver/api/routes/index.ts';
import { startTestApi } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const config = await testConfig(tempDagsFolder(), db.url);
const midnight = new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
await registerDag(
  db.knex,
  { dagId: 'daily', schedule: '@daily', startDate: new Date(midnight.getTime() - 3 * 86_400_000), catchup: true },
  { only: {} },
  { paused: true },
);
const api = await startTestApi(db.knex, config);

describe('REST API security', () => {
  it('every route except health and version answers 401 without credentials (walking the route table)', async () => {
    const protectedRoutes = API_ROUTES.filter((r) => r.permission !== 'public');
    expect(protectedRoutes.length).toBeGreaterThan(40);
    for (const route of protectedRoutes) {
      const path = route.path.replace(/\{[^}]+\}/g, 'x');
      const response = await api.call(route.method.toUpperCase(), path, {
        as: null,
        body: route.method === 'get' || route.method === 'delete' ? undefined : {},
      });
      expect(response.status, `${route.method.toUpperCase()} ${route.path}`).toBe(401);
    }
    for (const path of ['/health', '/version']) expect((await api.call('GET', path, { as: null })).status).toBe(200);
  });

  it('path traversal in ids and SQL metacharacters in filters are just strings', async () => {
    for (const path of [
      '/dags/..%2F..%2Fetc%2Fpasswd',
      '/dags/daily/dagRuns/..%2F..%2F..%2Fetc%2Fpasswd/taskInstances/only/logs/1',
      '/dagSources/..%2F..%2Fetc%2Fpasswd',
    ]) {
      const response = await api.call('GET', path);
      expect([400, 404], path).toContain(response.status);
      expect(response.text).not.toMatch(/root:x:0:0/);
    }
    const injection = await api.call('GET', `/dags?dag_id_pattern=${encodeURIComponent("%' OR 1=1 --")}`);
    expect(injection.status).toBe(200);
    expect(injection.json.total_entries).toBe(0);
    const tags = await api.call('GET', `/dags?tags=${encodeURIComponent("x'); DROP TABLE dag; --")}`);
    expect(tags.status).toBe(200);
    expect(await db.knex.schema.hasTable('dag')).toBe(true);
  });

  it('unpausing through the API lets the scheduler create the due runs; pausing stops new ones', async () => {
    const create = (now = new Date()) =>
      createDueDagRuns(db.knex, { now, catchupByDefault: true, maxActiveRunsPerDag: 16, jobId: null, logger: memoryLogger() });
    expect(await create()).toHaveLength(0); // paused
    expect((await api.call('PATCH', '/dags/daily', { as: 'User', body: { is_paused: false } })).status).toBe(200);
    expect((await create()).length).toBe(3);
    expect((await api.call('PATCH', '/dags/daily', { as: 'User', body: { is_paused: true } })).status).toBe(200);
    expect(await create(new Date(Date.now() + 2 * 86_400_000))).toHaveLength(0); // two more days are due, none created
  });
});
