import type { Page } from 'playwright-core';
import type { TiState } from '../../core/state.ts';
import { transitionDagRun, transitionTaskInstances } from '../../db/transitions.ts';
import type { DagRunRow } from '../../db/rows.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { PASSWORD, startTestApi } from './api.ts';
import { launchBrowser, logIn } from './browser.ts';
import { createTestDatabase } from './database.ts';
import { registerDag } from './dags.ts';
import { tempDagsFolder } from './dagsFolder.ts';
import { testConfig } from './runtime.ts';

/**
 * The DAG page tests' shared world (test/ui/dagPage*.test.ts): a database of its own, the DAG `ui_etl`, a
 * webserver, a browser, and three finished runs with known states. Each test file that imports it gets its own
 * (vitest loads modules per file).
 */
export const db = await createTestDatabase();
export const { knex } = db;
export const config = await testConfig(tempDagsFolder(), db.url);
export const DAG_ID = 'ui_etl';
export const dag = await registerDag(
  knex,
  {
    dagId: DAG_ID,
    schedule: '@daily',
    startDate: new Date('2025-01-01T00:00:00Z'),
    tags: ['etl', 'ui'],
    description: 'Extracts, transforms and loads',
    doc: 'Docs with <b>markup</b> shown as text',
    params: { greeting: 'hello' },
    maxActiveRuns: 3,
  },
  {
    extract: {},
    transform: { upstream: ['extract'] },
    report: { upstream: ['extract'] },
    load: { upstream: ['transform'] },
    notify: { upstream: ['load', 'report'] },
  },
);
export const server = await startTestApi(knex, config);
export const browser = await launchBrowser();

export const enc = encodeURIComponent;
export const base = (tab: string, dagId = DAG_ID) => `${server.url}/dags/${enc(dagId)}/${tab}`;

/** The state steps from none to `to` that db/transitions.ts allows (a task must be queued before it runs). */
export const PATHS: Record<string, TiState[]> = {
  none: [],
  scheduled: ['scheduled'],
  queued: ['scheduled', 'queued'],
  running: ['scheduled', 'queued', 'running'],
  success: ['scheduled', 'queued', 'running', 'success'],
  failed: ['scheduled', 'queued', 'running', 'failed'],
  up_for_retry: ['scheduled', 'queued', 'running', 'up_for_retry'],
  upstream_failed: ['upstream_failed'],
  skipped: ['skipped'],
};

export async function setStates(dagId: string, runId: string, states: Record<string, string>, now = new Date()): Promise<void> {
  for (const [taskId, state] of Object.entries(states)) {
    const ti = await knex('task_instance').where({ dag_id: dagId, run_id: runId, task_id: taskId }).first('id');
    for (const to of PATHS[state]!) await transitionTaskInstances(knex, [ti.id], { to, now });
  }
}

let day = 0;
export async function trigger(dagId = DAG_ID, conf: Record<string, unknown> = {}): Promise<DagRunRow> {
  day += 1;
  return triggerDagRun(knex, { dagId, logicalDate: new Date(Date.UTC(2025, 1, day)), conf, now: new Date() });
}

export async function runState(run: DagRunRow, to: 'running' | 'success' | 'failed', started?: Date, ended?: Date): Promise<void> {
  await transitionDagRun(knex, run.id, { to: 'running', now: started ?? new Date() });
  if (to !== 'running') await transitionDagRun(knex, run.id, { to, now: ended ?? new Date() });
}

export async function pageAs(username: string, options: { width?: number; javaScript?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: 900 }, javaScriptEnabled: options.javaScript ?? true });
  const page = await context.newPage();
  await logIn(page, server.url, username, PASSWORD);
  return page;
}

/** What the browser computes for a CSS colour name (e.g. green -> rgb(0, 128, 0)). */
export function cssColor(page: Page, name: string): Promise<string> {
  return page.evaluate((color) => {
    const probe = document.createElement('div');
    probe.style.background = color;
    document.body.append(probe);
    const computed = getComputedStyle(probe).backgroundColor;
    probe.remove();
    return computed;
  }, name);
}

export const squareSelector = (runId: string, taskId: string) => `a.sq[href="/dags/${enc(DAG_ID)}/runs/${enc(runId)}/tasks/${enc(taskId)}"]`;

export function squareColor(page: Page, runId: string, taskId: string): Promise<string> {
  return page.$eval(squareSelector(runId, taskId), (el) => getComputedStyle(el).backgroundColor);
}

// Three finished runs with known states, used by most tests.
export const run1 = await trigger();
await setStates(DAG_ID, run1.run_id, { extract: 'success', transform: 'success', report: 'success', load: 'success', notify: 'success' });
await runState(run1, 'success', new Date(Date.now() - 90_000), new Date(Date.now() - 30_000));
export const run2 = await trigger();
await setStates(DAG_ID, run2.run_id, { extract: 'success', transform: 'failed', report: 'skipped', load: 'upstream_failed', notify: 'upstream_failed' });
await runState(run2, 'failed', new Date(Date.now() - 50_000), new Date(Date.now() - 20_000));
export const run3 = await trigger(DAG_ID, { note: '<b>bold</b>', n: 1 });
await setStates(DAG_ID, run3.run_id, { extract: 'success', transform: 'running', report: 'up_for_retry', load: 'none', notify: 'none' });
await runState(run3, 'running', new Date(Date.now() - 10_000));
