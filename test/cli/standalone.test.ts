import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startStandalone } from '../helpers/standalone.ts';

// `npm start`: embedded Postgres, migrations, an admin, the scheduler and the webserver in one process.
const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-standalone-'));
chmodSync(home, 0o755);
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Polls a dag run through the API until it finishes. */
async function finalState(runUrl: string, headers: Record<string, string>): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { state } = (await (await fetch(runUrl, { headers })).json()) as { state: string };
    if (state === 'success' || state === 'failed') return state;
    if (Date.now() > deadline) throw new Error(`${runUrl} still ${state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('airflow standalone', () => {
  it('prints a URL and an admin password that work, stores the password, stops cleanly on Ctrl-C and reuses its data', async () => {
    const first = await startStandalone(home);
    expect(readFileSync(path.join(home, 'standalone_admin_password.txt'), 'utf8').trim()).toBe(first.password);
    const auth = { authorization: `Basic ${Buffer.from(`admin:${first.password}`).toString('base64')}` };
    const dags = (await (await fetch(`${first.url}/api/v1/dags`, { headers: auth })).json()) as { dags: { dag_id: string }[] };
    expect(dags.dags.map((d) => d.dag_id)).toEqual(expect.arrayContaining(['example_etl', 'example_ml_pipeline', 'example_params']));
    const json = { ...auth, 'content-type': 'application/json' };
    for (const dagId of ['example_etl', 'example_params']) {
      await fetch(`${first.url}/api/v1/dags/${dagId}`, { method: 'PATCH', headers: json, body: JSON.stringify({ is_paused: false }) });
    }

    // The README's promise: POST a run with conf, it executes, and its task instances show their states.
    const posted = await fetch(`${first.url}/api/v1/dags/example_etl/dagRuns`, { method: 'POST', headers: json, body: JSON.stringify({ conf: { x: 1 } }) });
    expect(posted.status).toBe(200);
    const run = (await posted.json()) as { dag_run_id: string; state: string; conf: unknown; dag_id: string; logical_date: string };
    expect(run).toMatchObject({
      dag_id: 'example_etl',
      conf: { x: 1 },
      dag_run_id: expect.stringMatching(/^manual__/),
      logical_date: expect.stringMatching(/\+00:00$/),
    });
    const runUrl = `${first.url}/api/v1/dags/example_etl/dagRuns/${encodeURIComponent(run.dag_run_id)}`;
    expect(await finalState(runUrl, auth)).toBe('success');
    const tis = (await (await fetch(`${runUrl}/taskInstances`, { headers: auth })).json()) as {
      task_instances: { task_id: string; state: string }[];
      total_entries: number;
    };
    expect(tis.total_entries).toBe(5);
    expect(tis.task_instances.every((ti) => ti.state === 'success')).toBe(true);

    // conf given to POST dagRuns reaches the tasks' params (and their templates).
    const greeted = (await (
      await fetch(`${first.url}/api/v1/dags/example_params/dagRuns`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ conf: { greeting: 'Hi', times: 2, name: 'Ada' } }),
      })
    ).json()) as { dag_run_id: string };
    const greetedUrl = `${first.url}/api/v1/dags/example_params/dagRuns/${encodeURIComponent(greeted.dag_run_id)}`;
    expect(await finalState(greetedUrl, auth)).toBe('success');
    const xcom = (await (await fetch(`${greetedUrl}/taskInstances/greet/xcomEntries/return_value`, { headers: auth })).json()) as { value: string };
    expect(xcom.value).toMatch(/^Hi, Ada on \d{4}-\d{2}-\d{2}$/);
    expect(await first.stop()).toBe(0);

    const second = await startStandalone(home);
    expect(second.password).toBe(first.password);
    const dag = (await (await fetch(`${second.url}/api/v1/dags/example_etl`, { headers: auth })).json()) as { is_paused: boolean };
    expect(dag.is_paused).toBe(false); // the same database, kept across restarts
    expect(await second.stop()).toBe(0);
  });
});
