import { describe, expect, it } from 'vitest';
import { connect } from '../../db/database.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { startTestApi } from '../helpers/api.ts';
import { testConfig } from '../helpers/runtime.ts';
import { startTcpProxy, throughProxy } from '../helpers/tcpProxy.ts';

// While the database is away the webserver says so (503, try again) instead of reporting a bug (500),
// and it answers normally once the database is back.
const db = await createTestDatabase();
const upstream = new URL(db.url);
const proxy = await startTcpProxy({ host: upstream.hostname, port: Number(upstream.port) });
const webDb = connect(throughProxy(db.url, proxy.port));
const config = await testConfig(tempDagsFolder(), db.url);
const api = await startTestApi(webDb.knex, config);

describe('the webserver while the database is unavailable', () => {
  it('answers 503 with Retry-After in the API and the UI, reports the database unhealthy, and recovers', async () => {
    expect((await api.call('GET', '/dags')).status).toBe(200);
    const anonymous = await fetch(`${api.url}/login`);
    const cookie = anonymous.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');

    await proxy.cut();
    const dags = await api.call('GET', '/dags');
    expect(dags.status).toBe(503);
    expect(dags.headers.get('retry-after')).toBe('5');
    expect(dags.json).toMatchObject({ status: 503, title: 'Service Unavailable' });
    const health = await api.call('GET', '/health', { as: null });
    expect(health.status).toBe(200);
    expect(health.json.metadatabase).toEqual({ status: 'unhealthy' });
    const page = await fetch(`${api.url}/`, { headers: { cookie }, redirect: 'manual' });
    expect(page.status).toBe(503);
    expect(await page.text()).toMatch(/Database unavailable/);

    await proxy.restore();
    expect((await api.call('GET', '/dags')).status).toBe(200);
    expect((await api.call('GET', '/health', { as: null })).json.metadatabase).toEqual({ status: 'healthy' });
    await webDb.close();
  });
});
