import type { Knex } from 'knex';
import { WakeableSleep } from '../core/wakeableSleep.ts';
import type { ResolvedConfig } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import { endJob, heartbeatJob, liveJobIds, registerJob } from '../db/models/job.ts';
import { activeTaskInstanceTries, lockOrphanedTaskInstances, setQueuedByJob } from '../db/models/taskInstance.ts';
import { earliestRescheduleDate } from '../db/models/taskReschedule.ts';
import { failTimedOutDeferrals } from '../db/models/trigger.ts';
import { WakeupListener } from '../db/notifications.ts';
import { claimScheduledTaskInstances } from '../db/queries/claimScheduledTaskInstances.ts';
import { transitionTaskInstances } from '../db/transitions.ts';
import { workloadOf } from '../db/taskWorkload.ts';
import type { DagRunRow } from '../db/rows.ts';
import type { Executor, ExecutorEvent } from '../executors/base.ts';
import { isDatabaseUnavailable } from '../db/pgErrors.ts';
import { retryWhileUnavailable } from '../db/retryWhileUnavailable.ts';
import { createDueDagRuns } from './createDueDagRuns.ts';
import { PlannerStatistics } from './plannerStatistics.ts';
import { applyExecutorEvents, failZombies } from './executorEvents.ts';
import { scheduleDagRuns } from './scheduleDagRuns.ts';

export type SchedulerState = 'created' | 'running' | 'stopping' | 'stopped';

export interface SchedulerOptions {
  knex: Knex;
  config: ResolvedConfig;
  executor: Executor;
  logger: Logger;
  /** Injected clock; tests move time by hand. */
  now?: () => Date;
  /** Database URL to LISTEN on for wake-ups from other processes (triggers, clears, unpauses). */
  listenUrl?: string | (() => string);
  /**
   * Restricts the loop to these DAGs and skips creating scheduled runs: for
   * `airflow dags backfill` and `airflow dags test`, which drive their own runs.
   */
  only?: { dagIds: string[]; runIdsIgnoringPause?: string[] };
  /** Told of each run this scheduler finished (committed): the DAG processor's callbacks run from here (ADR 0022). */
  onDagRunFinished?: (run: DagRunRow) => void;
}

/** What one loop iteration did; the loop goes again at once when something moved. */
export interface LoopResult {
  createdRuns: number;
  scheduled: number;
  queued: number;
  finishedRuns: number;
  failedByExecutor: number;
}

/**
 * The scheduler loop (Airflow's SchedulerJobRunner): apply executor events,
 * create due dag runs, make scheduling decisions, claim scheduled task
 * instances within the caps and hand them to the executor. It never runs
 * user code (ADR 0001); every state change goes through db/transitions.ts.
 */
export class Scheduler {
  state: SchedulerState = 'created';
  private jobId: number | null = null;
  private readonly sleeper = new WakeableSleep();
  private woken = false;
  private loop: Promise<void> | null = null;
  private lastHousekeeping = 0;
  private lastFullPass = 0;
  private lastOrphanCheck = 0;
  private listener: WakeupListener | null = null;
  private fullPassRequested = false;
  private unappliedEvents: ExecutorEvent[] = [];
  private readonly now: () => Date;
  private readonly statistics: PlannerStatistics;

  constructor(private readonly options: SchedulerOptions) {
    this.now = options.now ?? (() => new Date());
    this.statistics = new PlannerStatistics(options.knex, options.logger);
    options.executor.onEvent(() => this.wake());
  }

  get id(): number | null {
    return this.jobId;
  }

  async start(): Promise<void> {
    if (this.state !== 'created') throw new Error(`cannot start a scheduler that is ${this.state}`);
    const { knex, executor, logger } = this.options;
    this.jobId = await registerJob(knex, this.options.only ? 'BackfillJob' : 'SchedulerJob', executor.name);
    try {
      await executor.start({ jobId: this.jobId });
      if (this.options.listenUrl) {
        this.listener = new WakeupListener(this.options.listenUrl, () => this.wake(true), logger);
        await this.listener.start();
      }
      if (!this.options.only) await this.adoptOrResetOrphans(this.now());
    } catch (error) {
      // E.g. an unreachable Kubernetes API: leave nothing running and no job that looks alive.
      await this.listener?.stop();
      await executor.terminate().catch(() => {});
      await endJob(knex, this.jobId, 'failed');
      this.state = 'stopped';
      throw error;
    }
    this.state = 'running';
    logger.info(`scheduler started (job ${this.jobId}, ${executor.name})`);
    this.loop = this.runLoop();
  }

  /**
   * Asks the loop to run an iteration now. `full`: something other than a task
   * finishing happened (a trigger, an unpause, a changed DAG), so the next
   * iteration is a full pass rather than one targeted at executor events.
   */
  wake(full = false): void {
    this.woken = true;
    if (full) this.fullPassRequested = true;
    this.sleeper.wake();
  }

  /** Stops the loop, lets running tasks finish (up to `graceMs`), then kills the rest. */
  async stop(graceMs = 30_000): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    this.wake();
    await this.loop;
    await this.statistics.settled();
    await this.listener?.stop();
    const { executor, knex } = this.options;
    const ended = executor.end();
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
    if ((await Promise.race([ended, timer])) === 'timeout') await executor.terminate();
    const { logger, config } = this.options;
    this.unappliedEvents.push(...executor.drainEvents());
    try {
      // A stop during a database outage waits a little for it, then stops anyway.
      await retryWhileUnavailable(
        'scheduler stopping: recording what its executor reported',
        async () => {
          await applyExecutorEvents(knex, this.unappliedEvents, { now: this.now(), logger, baseLogFolder: config.logging.baseLogFolder });
          this.unappliedEvents = [];
          if (this.jobId !== null) await endJob(knex, this.jobId, 'success');
        },
        { logger, giveUpAfterMs: 10_000 },
      );
    } catch (error) {
      // Not lost: its job goes stale, so the next scheduler treats its tries as orphans (or zombies).
      logger.error(`the scheduler stopped without recording its executor's last events and its end: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.state = 'stopped';
  }

  /**
   * One iteration of the loop; public for `airflow dags test` and tests. A
   * full pass creates due runs and decides every running run; a targeted pass
   * (after executor events, between full passes) decides only the runs those
   * events touched plus runs started now, so the work per event is
   * proportional to what changed rather than to the number of DAGs.
   */
  async runOnce(kind: 'full' | 'targeted' = 'full'): Promise<LoopResult> {
    const { knex, config, executor, logger } = this.options;
    const now = this.now();
    // Events are kept until applied: a database outage must not lose the news that a runner died.
    this.unappliedEvents.push(...executor.drainEvents());
    const { failed: failedByExecutor, touched } = await applyExecutorEvents(knex, this.unappliedEvents, {
      now,
      logger,
      baseLogFolder: config.logging.baseLogFolder,
    });
    this.unappliedEvents = [];
    const only = this.options.only;
    const created =
      only || kind === 'targeted'
        ? []
        : await createDueDagRuns(knex, {
            now,
            catchupByDefault: config.scheduler.catchupByDefault,
            maxActiveRunsPerDag: config.core.maxActiveRunsPerDag,
            jobId: this.jobId,
            logger,
          });
    for (const run of created) logger.info(`created dag run ${run.run_id}`, { dagId: run.dag_id });
    const pass = await scheduleDagRuns(knex, {
      now,
      maxActiveRunsPerDag: config.core.maxActiveRunsPerDag,
      maxMapLength: config.core.maxMapLength,
      logger,
      dagIds: only?.dagIds,
      runs: kind === 'targeted' ? touched : undefined,
    });
    for (const run of pass.finished) {
      logger.info(`dag run ${run.run_id} finished: ${run.state}`, { dagId: run.dag_id });
      this.options.onDagRunFinished?.(run);
    }
    this.statistics.afterPass(pass.scheduled);
    const claimed = await claimScheduledTaskInstances(knex, {
      slots: Math.min(executor.slotsAvailable(), config.core.parallelism),
      maxActiveTasksPerDag: config.core.maxActiveTasksPerDag,
      jobId: this.jobId,
      now,
      dagIds: only?.dagIds,
      runIdsIgnoringPause: only?.runIdsIgnoringPause,
    });
    for (const ti of claimed) executor.queue(workloadOf(ti));
    return { createdRuns: created.length, scheduled: pass.scheduled, queued: claimed.length, finishedRuns: pass.finished.length, failedByExecutor };
  }

  private async runLoop(): Promise<void> {
    const { logger, config } = this.options;
    /** Consecutive failed iterations, and since when the database has been unavailable. */
    let failures = 0;
    let unavailableSince: number | null = null;
    while (this.state === 'running') {
      let busy: boolean;
      let sleepMs = config.scheduler.schedulerIdleSleepTime * 1000;
      try {
        this.woken = false;
        const full = this.fullPassRequested || this.now().getTime() - this.lastFullPass >= config.scheduler.schedulerIdleSleepTime * 1000;
        this.fullPassRequested = false;
        const began = this.now();
        if (full) this.lastFullPass = began.getTime();
        const result = await this.runOnce(full ? 'full' : 'targeted');
        busy = result.createdRuns + result.scheduled + result.queued + result.finishedRuns + result.failedByExecutor > 0;
        await this.housekeeping();
        if (!busy) sleepMs = await this.untilNextReschedule(sleepMs, full ? began : null);
        if (unavailableSince !== null)
          logger.info(`the database is back; the scheduler loop resumed after ${((Date.now() - unavailableSince) / 1000).toFixed(1)} s`);
        failures = 0;
        unavailableSince = null;
      } catch (error) {
        // Nothing kills the scheduler: it backs off (0.5 s doubling to 10 s; a wake-up, e.g. the LISTEN
        // connection coming back, cuts the wait short) and tries again.
        failures += 1;
        const backoffMs = Math.min(10_000, 500 * 2 ** (failures - 1));
        if (isDatabaseUnavailable(error)) {
          unavailableSince ??= Date.now();
          logger.warn(
            `the database is unavailable (${error instanceof Error ? error.message : String(error)}); scheduler loop retrying in ${backoffMs / 1000} s`,
          );
        } else {
          logger.error('scheduler loop iteration failed', { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
        }
        if (this.state === 'running') await this.sleeper.sleep(backoffMs);
        continue;
      }
      if (!busy && !this.woken && this.state === 'running') await this.sleeper.sleep(sleepMs);
    }
  }

  /**
   * The idle sleep, cut short when a reschedule-mode sensor is due to poke again before it ends: then the
   * next pass is a full one, since no executor event points at the sensor's run. A reschedule that was
   * already due when the last full pass began is left to the next regular full pass (that pass saw it and
   * did not move it: it has its reasons), so nothing spins.
   */
  private async untilNextReschedule(idleMs: number, fullPassBegan: Date | null): Promise<number> {
    const at = await earliestRescheduleDate(this.options.knex, this.options.only?.dagIds);
    if (at === null) return idleMs;
    if (fullPassBegan !== null && at.getTime() <= fullPassBegan.getTime()) return idleMs;
    const dueInMs = at.getTime() - this.now().getTime();
    if (dueInMs >= idleMs) return idleMs;
    this.fullPassRequested = true;
    return Math.max(0, dueInMs);
  }

  /** Time-driven chores at the heartbeat rate: our heartbeat, zombies, trigger timeouts, executor housekeeping. */
  private async housekeeping(): Promise<void> {
    const { knex, config, executor, logger } = this.options;
    const now = this.now();
    if (now.getTime() - this.lastHousekeeping < config.scheduler.schedulerHeartbeatSec * 1000) return;
    this.lastHousekeeping = now.getTime();
    if (this.jobId !== null) await heartbeatJob(knex, this.jobId);
    await executor.heartbeat();
    await failZombies(knex, { now, thresholdMs: config.scheduler.zombieTaskThreshold * 1000, logger, baseLogFolder: config.logging.baseLogFolder });
    // Deferred tasks past their trigger timeout go back to scheduled, to fail in a worker with TaskDeferralTimeout.
    const timedOut = await failTimedOutDeferrals(knex, now);
    if (timedOut.length > 0) {
      logger.info(`${timedOut.length} deferred task instance(s) passed their trigger timeout; scheduled to fail`);
      this.wake(true);
    }
    if (!this.options.only && now.getTime() - this.lastOrphanCheck >= config.scheduler.orphanedTasksCheckInterval * 1000) await this.adoptOrResetOrphans(now);
  }

  /**
   * Task instances queued or running under a scheduler that is gone (it
   * stopped heartbeating): offer them to our executor, and put back to
   * scheduled the queued ones it cannot adopt. Running ones it cannot adopt
   * are left to their runner's heartbeat (and zombie detection if it is
   * dead). Runs at start and every scheduler.orphanedTasksCheckInterval, since
   * a scheduler killed a moment ago still counts as alive until its
   * heartbeat is stale.
   */
  private async adoptOrResetOrphans(now: Date): Promise<void> {
    const { knex, config, executor, logger } = this.options;
    this.lastOrphanCheck = now.getTime();
    const alive = await liveJobIds(knex, config.scheduler.schedulerHeartbeatSec * 1000 * 3);
    if (this.jobId !== null && !alive.includes(this.jobId)) alive.push(this.jobId);
    // Row locks (SKIP LOCKED) keep two schedulers from adopting the same orphans; adopted ones become ours.
    await knex.transaction(async (trx) => {
      const orphans = await lockOrphanedTaskInstances(trx, alive);
      const active = await activeTaskInstanceTries(trx);
      const activeTries = new Set(active.map((ti) => `${ti.id}.${ti.try_number}`));
      const context = { liveJobIds: alive, isActive: (tiId: number, tryNumber: number) => activeTries.has(`${tiId}.${tryNumber}`) };
      const notAdopted = new Set((await executor.adopt(orphans.map(workloadOf), context)).map((w) => w.tiId));
      const adopted = orphans.filter((ti) => !notAdopted.has(ti.id)).map((ti) => ti.id);
      if (adopted.length > 0) {
        await setQueuedByJob(trx, adopted, this.jobId);
        logger.info(`adopted ${adopted.length} task instance(s) of schedulers that are gone`);
      }
      const reset = await transitionTaskInstances(trx, [...notAdopted], { to: 'scheduled', from: ['queued'], now });
      if (reset.length > 0) logger.info(`reset ${reset.length} orphaned queued task instance(s) to scheduled`);
    });
  }
}
