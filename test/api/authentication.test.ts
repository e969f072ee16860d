import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { createUser, deleteUser, setUserRole } from '../../db/models/user.ts';
import { AUTH_WINDOW_MS, FAILURES_PER_ADDRESS, FAILURES_PER_USER } from '../../webserver/passwordCheck.ts';
import { startWebserver } from '../../webserver/startWebserver.ts';
import { PASSWORD, startTestApi } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { basic, request } from '../helpers/http.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const { knex } = db;
const config = await testConfig(tempDagsFolder(), db.url);
const server = await startTestApi(knex, config);

/** One REST call as `username` from the loopback address `from` (each test uses its own addresses). */
function call(method: string, path: string, username: string, password: string, from: string, body?: unknown, baseUrl = server.url) {
  return request(`${baseUrl}/api/v1${path}`, {
    method,
    localAddress: from,
    headers: { authorization: basic(username, password), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('REST API Basic auth', () => {
  it('checks the user row on every request: a demoted role and a deleted user take effect at once', async () => {
    await createUser(knex, { username: 'api_op', password: PASSWORD, role: 'Op' });
    expect((await call('POST', '/variables', 'api_op', PASSWORD, '127.0.0.1', { key: 'v1', value: 'x' })).status).toBe(200);
    await setUserRole(knex, 'api_op', 'Viewer');
    expect((await call('POST', '/variables', 'api_op', PASSWORD, '127.0.0.1', { key: 'v2', value: 'x' })).status).toBe(403);
    expect((await call('GET', '/dags', 'api_op', PASSWORD, '127.0.0.1')).status).toBe(200);
    await deleteUser(knex, 'api_op');
    expect((await call('GET', '/dags', 'api_op', PASSWORD, '127.0.0.1')).status).toBe(401);
    expect(await knex('variable').where('key', 'v2').first()).toBeUndefined();
  });

  it(`40 concurrent wrong passwords for one user: ${FAILURES_PER_USER} are checked, the rest get 429 with Retry-After; other users are unaffected`, async () => {
    await createUser(knex, { username: 'victim', password: PASSWORD, role: 'Viewer' });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => call('GET', '/dags', 'victim', `guess-${i}`, '127.0.0.3')));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(FAILURES_PER_USER);
    expect(statuses.filter((s) => s === 429)).toHaveLength(40 - FAILURES_PER_USER);
    for (const limited of answers.filter((a) => a.status === 429)) {
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(AUTH_WINDOW_MS / 1000);
      expect(JSON.parse(limited.text)).toMatchObject({ status: 429, title: 'Too Many Requests' });
    }
    // The account is locked from every address for the window, even with the right password...
    expect((await call('GET', '/dags', 'victim', PASSWORD, '127.0.0.4')).status).toBe(429);
    // ...while another user logs in from another address.
    expect((await call('GET', '/dags', 'admin', PASSWORD, '127.0.0.4')).status).toBe(200);
  });

  it(`one address trying many usernames is stopped after ${FAILURES_PER_ADDRESS} failures; a correct password from another address still works`, async () => {
    for (let i = 0; i < FAILURES_PER_ADDRESS; i++) expect((await call('GET', '/dags', `nobody_${i}`, 'wrong', '127.0.0.5')).status).toBe(401);
    const limited = await call('GET', '/dags', 'op', PASSWORD, '127.0.0.5');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await call('GET', '/dags', 'op', PASSWORD, '127.0.0.6')).status).toBe(200);
  });

  it('a correct password does not count, and the limit lifts when the window has passed (clock injected)', async () => {
    let now = new Date('2026-03-01T10:00:00Z');
    const clocked = await startWebserver({ knex, config, logger: memoryLogger(), port: 0, host: '127.0.0.1', now: () => now });
    afterAll(() => clocked.stop());
    await createUser(knex, { username: 'clocky', password: PASSWORD, role: 'Viewer' });
    const clockyCall = (password: string) => call('GET', '/dags', 'clocky', password, '127.0.0.7', undefined, clocked.url);
    for (let i = 0; i < FAILURES_PER_USER - 1; i++) expect((await clockyCall('wrong')).status).toBe(401);
    expect((await clockyCall(PASSWORD)).status).toBe(200); // gives its reservation back
    expect((await clockyCall('wrong')).status).toBe(401); // the 5th failure
    const limited = await clockyCall('wrong');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe(String(AUTH_WINDOW_MS / 1000));
    now = new Date(now.getTime() + AUTH_WINDOW_MS - 1000);
    expect((await clockyCall('wrong')).headers['retry-after']).toBe('1');
    now = new Date(now.getTime() + 1000);
    expect((await clockyCall('wrong')).status).toBe(401); // checked again: a new window
  });
});
