/**
 * `npm run chaos`: runs one DAG of width × layers tasks under the
 * LocalExecutor on the embedded Postgres and, while it runs, kill -9s in
 * turn the scheduler, a warm worker mid-body, the worker of a running
 * BashOperator and the Postgres postmaster. Nothing is restarted by hand
 * except the scheduler, as systemd or Kubernetes would (after 1 s). Prints
 * task instances not in success, bodies run twice in one try, tries that
 * overlapped in time and the seconds each kill took to recover from; the
 * same figures go to bench/results/chaos-<time>.json. Not part of `npm test`.
 *
 *   npm run chaos -- [--layers 8] [--width 40] [--parallelism 8] [--keep]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gitCommit } from '../report.ts';
import { writeChaosDag } from './chaosDag.ts';
import { countLedger, readLedger, runningAt, type Body } from './ledger.ts';
import { Observer } from './observer.ts';
import { isAlive, processes, warmWorkers } from './processes.ts';

const AIRFLOW_BIN = fileURLToPath(new URL('../../bin/airflow.js', import.meta.url));
const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));
const STEP_TIMEOUT_MS = 180_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const log = (line: string) => process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 23)}] ${line}\n`);

const { values: args } = parseArgs({
  options: {
    layers: { type: 'string', default: '8' },
    width: { type: 'string', default: '40' },
    parallelism: { type: 'string', default: '8' },
    keep: { type: 'boolean', default: false },
  },
});
const layers = Number(args.layers);
const width = Number(args.width);
const parallelism = Number(args.parallelism);

const root = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-chaos-'));
chmodSync(root, 0o755); // as root, Postgres runs as `postgres` and must reach $AIRFLOW_HOME/postgres
const home = path.join(root, 'home');
const dagsFolder = path.join(root, 'dags');
const ledger = path.join(root, 'ledger.txt');
mkdirSync(home, { mode: 0o755 });
writeFileSync(ledger, '');
chmodSync(ledger, 0o666);
const BASH_MS = 2_000;
const LONG_BASH_MS = 15_000;
const FUNCTION_MS = 1_000;
const dag = writeChaosDag(dagsFolder, ledger, { layers, width, bashMs: BASH_MS, longBashMs: LONG_BASH_MS, functionMs: FUNCTION_MS, retries: 3 });
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  AIRFLOW_HOME: home,
  AIRFLOW__CORE__DAGS_FOLDER: dagsFolder,
  AIRFLOW__CORE__LOAD_EXAMPLES: 'false',
  AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
  AIRFLOW__CORE__PARALLELISM: String(parallelism),
  AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION: 'false',
};

function airflow(...command: string[]): string {
  const result = spawnSync(process.execPath, [AIRFLOW_BIN, ...command], { cwd: home, env, encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) throw new Error(`airflow ${command.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
  return result.stdout;
}

/** The scheduler under a supervisor: whenever it exits it is started again after 1 s, until stop(). */
class SupervisedScheduler {
  child: ChildProcess | null = null;
  starts = 0;
  unplannedExits: string[] = [];
  private plannedKill = false;
  private stopping = false;

  start(): void {
    this.starts++;
    const logFd = openSync(path.join(home, `scheduler-${this.starts}.log`), 'a');
    const child = spawn(process.execPath, [AIRFLOW_BIN, 'scheduler'], { cwd: home, env, stdio: ['ignore', logFd, logFd], detached: true });
    closeSync(logFd);
    this.child = child;
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      if (!this.plannedKill) this.unplannedExits.push(`scheduler ${child.pid} exited by itself (${code ?? signal}); see scheduler-${this.starts}.log`);
      this.plannedKill = false;
      setTimeout(() => this.stopping || this.start(), 1_000);
    });
  }

  kill(): number {
    this.plannedKill = true;
    const pid = this.child!.pid!;
    process.kill(pid, 'SIGKILL');
    return pid;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await gone;
    clearTimeout(timer);
  }
}

interface EventResult {
  event: string;
  /** Seconds after the trigger at which the kill happened. */
  at_s: number;
  killed_pid: number | null;
  /** Task bodies running at the kill. */
  interrupted: number;
  /** Postgres only: seconds until it accepted connections again. */
  db_back_s?: number;
  /** Seconds until a task body started again (for Postgres: counted from its return). */
  resumed_s: number | null;
  /** Seconds until every task instance whose body was running at the kill reached success (for Postgres: from its return). */
  recovered_s: number | null;
  /** Child processes of the killed worker still alive 0.5 s after it died. */
  outlived?: number;
  note?: string;
}

const observer = () => new Observer(home);
const scheduler = new SupervisedScheduler();
const events: EventResult[] = [];
let triggeredAt = 0;
const secondsSince = (from: number, at = Date.now()) => Math.round((at - from) / 100) / 10;

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = STEP_TIMEOUT_MS): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await sleep(200);
  }
  log(`gave up waiting for ${what} after ${timeoutMs / 1000} s`);
  return null;
}

async function successes(db: Observer): Promise<number> {
  return (await db.stateCounts(dag.dagId))?.success ?? 0;
}

/** Waits until the interrupted task instances are all success again and some body has started since `from`. */
async function recovery(db: Observer, interrupted: Body[], from: number): Promise<Pick<EventResult, 'resumed_s' | 'recovered_s'>> {
  const tasks = [...new Set(interrupted.map((b) => b.taskId))];
  let resumed: number | null = null;
  let recovered: number | null = null;
  await until('recovery', async () => {
    resumed ??= readLedger(ledger).find((b) => b.start > from)?.start ?? null;
    if (recovered === null) {
      const rows = tasks.length
        ? await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM task_instance WHERE dag_id = $1 AND task_id = ANY($2) AND state = 'success'`, [
            dag.dagId,
            tasks,
          ])
        : [{ n: 0 }];
      if (rows && rows[0]!.n === tasks.length) recovered = Date.now();
    }
    return resumed !== null && recovered !== null;
  });
  return { resumed_s: resumed === null ? null : secondsSince(from, resumed), recovered_s: recovered === null ? null : secondsSince(from, recovered) };
}

async function killScheduler(db: Observer): Promise<EventResult> {
  const at = Date.now();
  const interrupted = runningAt(readLedger(ledger), at);
  const pid = scheduler.kill();
  log(`killed the scheduler ${pid} (${interrupted.length} bodies running); the supervisor restarts it in 1 s`);
  return {
    event: 'kill -9 scheduler',
    at_s: secondsSince(triggeredAt, at),
    killed_pid: pid,
    interrupted: interrupted.length,
    ...(await recovery(db, interrupted, at)),
  };
}

/** Kills the warm worker running a body of the given operator kind; reports its children that outlive it. */
async function killWorker(db: Observer, kind: 'FunctionOperator' | 'BashOperator'): Promise<EventResult> {
  const name = kind === 'BashOperator' ? 'kill -9 worker running a BashOperator' : 'kill -9 worker mid-body';
  const target = await until(
    `a ${kind} body to run`,
    async () => {
      const all = processes();
      const workers = new Set(warmWorkers(scheduler.child!.pid!, all).map((p) => p.pid));
      for (const body of runningAt(readLedger(ledger), Date.now())) {
        const isBash = Number(body.taskId.slice(-2)) % 2 === 0;
        if (isBash !== (kind === 'BashOperator')) continue;
        // Bash: a long body (chain 0) that has just started, so a body that outlived its worker would
        // still run when the retry starts, and show up as overlapping tries.
        if (isBash && (!body.taskId.endsWith('_t00') || Date.now() - body.start > 2_000)) continue;
        // A TypeScript body runs in the worker itself; bash is the worker's child.
        const worker = isBash ? all.find((p) => p.pid === body.pid)?.ppid : body.pid;
        if (worker && workers.has(worker)) return { worker, body, children: all.filter((p) => p.ppid === worker).map((p) => p.pid) };
      }
      return null;
    },
    60_000,
  );
  if (!target)
    return { event: name, at_s: secondsSince(triggeredAt), killed_pid: null, interrupted: 0, resumed_s: null, recovered_s: null, note: 'no such worker found' };
  const at = Date.now();
  const interrupted = runningAt(readLedger(ledger), at);
  process.kill(target.worker, 'SIGKILL');
  log(`killed worker ${target.worker} running ${target.body.taskId} try ${target.body.tryNumber}`);
  await sleep(500);
  const outlived = target.children.filter(isAlive).length;
  return {
    event: name,
    at_s: secondsSince(triggeredAt, at),
    killed_pid: target.worker,
    interrupted: interrupted.length,
    outlived,
    ...(await recovery(db, [target.body], at)),
  };
}

async function killPostgres(db: Observer): Promise<EventResult> {
  const postmaster = db.postmaster();
  if (!postmaster)
    return {
      event: 'kill -9 Postgres',
      at_s: secondsSince(triggeredAt),
      killed_pid: null,
      interrupted: 0,
      resumed_s: null,
      recovered_s: null,
      note: 'no postmaster.pid',
    };
  const at = Date.now();
  const interrupted = runningAt(readLedger(ledger), at);
  process.kill(postmaster.pid, 'SIGKILL');
  log(`killed the Postgres postmaster ${postmaster.pid} (${interrupted.length} bodies running); nobody restarts it by hand`);
  const back = await until('Postgres to accept connections again', async () => (await db.query('SELECT 1')) && Date.now());
  const base = { event: 'kill -9 Postgres', at_s: secondsSince(triggeredAt, at), killed_pid: postmaster.pid, interrupted: interrupted.length };
  if (!back) return { ...base, resumed_s: null, recovered_s: null, note: 'Postgres never came back' };
  log(`Postgres is back after ${secondsSince(at, back)} s (pid ${db.postmaster()?.pid})`);
  return { ...base, db_back_s: secondsSince(at, back), ...(await recovery(db, interrupted, back)) };
}

async function main(): Promise<void> {
  log(`AIRFLOW_HOME ${home}; DAG ${dag.dagId}: ${dag.taskCount} tasks (${width} chains of ${layers}), parallelism ${parallelism}`);
  airflow('db', 'migrate');
  const db = observer();
  scheduler.start();
  await until('the chaos DAG to be parsed', async () => (await db.query('SELECT 1 FROM dag WHERE dag_id = $1', [dag.dagId]))?.length);
  airflow('dags', 'trigger', dag.dagId);
  triggeredAt = Date.now();
  log('triggered');

  const plan: [number, () => Promise<EventResult>][] = [
    [0.1, () => killScheduler(db)],
    [0.3, () => killWorker(db, 'FunctionOperator')],
    [0.5, () => killWorker(db, 'BashOperator')],
    [0.7, () => killPostgres(db)],
  ];
  for (const [share, act] of plan) {
    const wanted = Math.floor(dag.taskCount * share);
    await until(`${wanted} task instances in success`, async () => (await successes(db)) >= wanted);
    const result = await act();
    events.push(result);
    log(`${result.event}: resumed ${result.resumed_s ?? '—'} s, recovered ${result.recovered_s ?? '—'} s${result.note ? ` (${result.note})` : ''}`);
  }

  const dbLost = events.some((e) => e.note === 'Postgres never came back');
  const finished = await until(
    'the run to finish',
    async () => {
      const rows = await db.query<{ state: string }>('SELECT state FROM dag_run WHERE dag_id = $1', [dag.dagId]);
      return rows?.[0] && ['success', 'failed'].includes(rows[0].state) ? rows[0].state : null;
    },
    dbLost ? 1_000 : 15 * 60_000,
  );
  const runDuration = secondsSince(triggeredAt);
  const counts = await db.stateCounts(dag.dagId);
  const retried =
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM task_instance WHERE dag_id = $1 AND try_number > 1', [dag.dagId]))?.[0]?.n ?? null;

  await scheduler.stop();
  // The last airflow-ts process out stops the embedded Postgres; anything of this run still alive is a leak.
  const leftovers = (await until('every process of the run to exit', async () => !processes().some((p) => p.cmdline.includes(root)), 30_000))
    ? []
    : processes().filter((p) => p.cmdline.includes(root));
  for (const p of leftovers) process.kill(p.pid, 'SIGKILL');

  const ledgerCounts = countLedger(readLedger(ledger));
  const notSuccess = counts ? dag.taskCount - (counts.success ?? 0) : 'unknown: the database cannot be reached';
  const report = {
    commit: gitCommit(process.cwd()),
    at: new Date().toISOString(),
    loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    dag: { tasks: dag.taskCount, layers, width, parallelism, bashMs: BASH_MS, longBashMs: LONG_BASH_MS, functionMs: FUNCTION_MS, retries: 3 },
    run: { state: finished ?? 'did not finish', seconds: runDuration, states: counts ?? 'unknown', retried_task_instances: retried },
    counts: {
      task_instances_not_success: notSuccess,
      bodies_run_twice_in_one_try: ledgerCounts.ranTwiceInOneTry,
      tries_overlapping_in_time: ledgerCounts.overlappingTries,
      bodies_interrupted: ledgerCounts.interrupted,
      bodies: ledgerCounts.bodies,
      worker_children_outliving_their_worker: events.reduce((sum, e) => sum + (e.outlived ?? 0), 0),
      scheduler_exits_not_caused_by_chaos: scheduler.unplannedExits.length,
      processes_left_running: leftovers.length,
    },
    events,
    unplanned: scheduler.unplannedExits,
    leftovers: leftovers.map((p) => p.cmdline.slice(0, 200)),
  };
  mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `chaos-${report.at.replaceAll(':', '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  printReport(report);
  console.log(`\nwritten to ${path.relative(process.cwd(), file)}${args.keep ? `; the run's files are in ${root}` : ''}`);
  if (!args.keep) rmSync(root, { recursive: true, force: true });
}

function printReport(report: {
  run: { state: string; seconds: number };
  counts: Record<string, number | string>;
  events: EventResult[];
  loadavg: number[];
}): void {
  console.log(`\nchaos: ${dag.taskCount} tasks, run ${report.run.state} after ${report.run.seconds} s, load ${report.loadavg.join(' ')}\n`);
  for (const [key, value] of Object.entries(report.counts)) console.log(`${key.replaceAll('_', ' ').padEnd(42)} ${value}`);
  console.log(
    `\n${'event'.padEnd(40)} ${'at s'.padStart(6)} ${'bodies hit'.padStart(10)} ${'db back s'.padStart(9)} ${'resumed s'.padStart(9)} ${'recovered s'.padStart(11)}`,
  );
  for (const e of report.events) {
    const cell = (v: number | null | undefined, w: number) => String(v ?? '—').padStart(w);
    console.log(
      `${e.event.padEnd(40)} ${cell(e.at_s, 6)} ${cell(e.interrupted, 10)} ${cell(e.db_back_s, 9)} ${cell(e.resumed_s, 9)} ${cell(e.recovered_s, 11)}${e.note ? `  ${e.note}` : ''}`,
    );
  }
}

let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  log('interrupted: stopping the scheduler');
  void scheduler.stop().then(() => process.exit(130));
});

main().catch(async (error: unknown) => {
  console.error(error);
  await scheduler.stop().catch(() => {});
  process.exitCode = 1;
});
