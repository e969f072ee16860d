import { memoryLogger } from '../core/logger.ts';
import { resolveConfig } from '../config/resolveConfig.ts';
import { createUser } from '../db/models/user.ts';
import { startWebserver } from '../webserver/startWebserver.ts';
import type { RunContext } from './scenario.ts';
import { median } from './stats.ts';

/** The web UI on a run's database, logged in as a Viewer: what the UI figures are measured against. */
export interface BenchUi {
  /** Median server time (the page's Server-Timing `app;dur`) of `requests` GETs of `path`, after one warm-up. */
  serverTimeMs(path: string, requests: number): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the webserver in this process on a free port, creates the Viewer `bench` and logs in through the form. */
export async function startBenchUi(context: RunContext): Promise<BenchUi> {
  const { knex, url } = context.db;
  await createUser(knex, { username: 'bench', password: 'bench-password', role: 'Viewer' });
  const config = await resolveConfig({
    cwd: context.home,
    env: { AIRFLOW_HOME: context.home, AIRFLOW__DATABASE__URL: url, AIRFLOW__CORE__DAGS_FOLDER: context.dagsFolder },
  });
  const server = await startWebserver({ knex, config, logger: memoryLogger(), port: 0, host: '127.0.0.1' });
  try {
    const cookie = await logIn(server.url);
    return {
      async serverTimeMs(path, requests) {
        const times: number[] = [];
        for (let i = 0; i <= requests; i++) {
          const response = await fetch(`${server.url}${path}`, { headers: { cookie } });
          if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status}`);
          await response.text();
          if (i > 0) times.push(Number(/app;dur=([\d.]+)/.exec(response.headers.get('server-timing') ?? '')?.[1]));
        }
        return median(times);
      },
      stop: () => server.stop(),
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** Logs in through the form (CSRF token from the page) and returns the session cookie. */
async function logIn(baseUrl: string): Promise<string> {
  const form = await fetch(`${baseUrl}/login`);
  const cookie = (form.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const response = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, username: 'bench', password: 'bench-password', next: '/' }),
  });
  const session = (response.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
  if (response.status !== 302 || !session) throw new Error(`could not log in to the UI (HTTP ${response.status})`);
  return session;
}
