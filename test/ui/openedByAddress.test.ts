import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { FAILURES_PER_ADDRESS } from '../../webserver/passwordCheck.ts';
import { startWebserver } from '../../webserver/startWebserver.ts';
import { PASSWORD, startTestApi } from '../helpers/api.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { request } from '../helpers/http.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const { knex } = db;
const config = await testConfig(tempDagsFolder(), db.url);
await registerDag(knex, { dagId: 'lan_dag' }, { a: {} });
await startTestApi(knex, config); // the users
// As `airflow webserver` listens by default: on every address of the machine.
const lan = await startWebserver({ knex, config, logger: memoryLogger(), port: 0, host: '0.0.0.0' });
afterAll(() => lan.stop());
const port = new URL(lan.url).port;
// A host name that is not localhost (as behind Docker or a Kubernetes Service), mapped inside the browser only.
const NAME = 'airflow-webserver.example';
const browser = await launchBrowser([`--host-resolver-rules=MAP ${NAME} 127.0.0.1`]);
const machineAddress = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i?.family === 'IPv4' && !i.internal)?.address;
const bases = [`http://${NAME}:${port}`, ...(machineAddress ? [`http://${machineAddress}:${port}`] : [])];

const cspOf = (headers: Record<string, string | string[] | undefined>) => String(headers['content-security-policy']);
const cookieOf = (headers: Record<string, string | string[] | undefined>) => (headers['set-cookie'] as string[] | undefined)?.join('\n') ?? '';

describe('the UI opened by address over plain HTTP', () => {
  it.each(bases)('loads its CSS and JavaScript and logs in at %s', async (base) => {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText}`));
    await page.goto(`${base}/login`);
    // app.css paints the top bar; app.js defines window.airflowTs (both finished by the load event).
    expect(await page.evaluate(() => getComputedStyle(document.querySelector('.topbar')!).backgroundColor)).toBe('rgb(29, 35, 48)');
    expect(await page.evaluate(() => typeof (window as { airflowTs?: unknown }).airflowTs)).toBe('object');
    await page.fill('input[name=username]', 'viewer');
    await page.fill('input[name=password]', PASSWORD);
    await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/login')), page.click('button[type=submit]')]);
    await expect(page.locator('body').textContent()).resolves.toContain('lan_dag');
    expect(failed).toEqual([]);
    await page.close();
  });

  it('sends no upgrade-insecure-requests and no Secure cookie over HTTP, and ignores X-Forwarded-Proto unless enableProxyFix', async () => {
    const plain = await request(`${lan.url}/login`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(cspOf(plain.headers)).not.toContain('upgrade-insecure-requests');
    expect(cookieOf(plain.headers)).toContain('airflow_ts_session=');
    expect(cookieOf(plain.headers)).not.toMatch(/;\s*Secure/i);
  });
});

describe('the UI over TLS', () => {
  it('with webserver.sslCert/sslKey serves HTTPS, upgrades insecure requests and marks the session cookie Secure', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-tls-'));
    const [cert, key] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert], {
      stdio: 'ignore',
    });
    const tlsConfig = await testConfig(config.core.dagsFolder, db.url, {
      AIRFLOW__WEBSERVER__WEB_SERVER_SSL_CERT: cert,
      AIRFLOW__WEBSERVER__WEB_SERVER_SSL_KEY: key,
    });
    const server = await startWebserver({ knex, config: tlsConfig, logger: memoryLogger(), port: 0, host: '127.0.0.1' });
    afterAll(() => server.stop());
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const page = await request(`${server.url}/login`);
    expect(page.status).toBe(200);
    expect(cspOf(page.headers)).toContain('upgrade-insecure-requests');
    expect(cookieOf(page.headers)).toMatch(/airflow_ts_session=[^\n]*;\s*Secure/i);
  });

  it('behind a TLS-terminating proxy (webserver.enableProxyFix) trusts X-Forwarded-Proto and X-Forwarded-For', async () => {
    const proxied = await testConfig(config.core.dagsFolder, db.url, { AIRFLOW__WEBSERVER__ENABLE_PROXY_FIX: 'true' });
    const server = await startWebserver({ knex, config: proxied, logger: memoryLogger(), port: 0, host: '127.0.0.1' });
    afterAll(() => server.stop());
    const page = await request(`${server.url}/login`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(cspOf(page.headers)).toContain('upgrade-insecure-requests');
    expect(cookieOf(page.headers)).toMatch(/airflow_ts_session=[^\n]*;\s*Secure/i);
    // The client address for login limits is the proxy's X-Forwarded-For.
    for (let i = 0; i < FAILURES_PER_ADDRESS; i++)
      expect(
        (
          await request(`${server.url}/api/v1/dags`, {
            headers: { authorization: `Basic ${Buffer.from(`ghost_${i}:x`).toString('base64')}`, 'x-forwarded-for': '203.0.113.9' },
          })
        ).status,
      ).toBe(401);
    const limited = await request(`${server.url}/api/v1/dags`, {
      headers: { authorization: `Basic ${Buffer.from(`viewer:${PASSWORD}`).toString('base64')}`, 'x-forwarded-for': '203.0.113.9' },
    });
    expect(limited.status).toBe(429);
    const other = await request(`${server.url}/api/v1/dags`, {
      headers: { authorization: `Basic ${Buffer.from(`viewer:${PASSWORD}`).toString('base64')}`, 'x-forwarded-for': '203.0.113.10' },
    });
    expect(other.status).toBe(200);
  });
});
