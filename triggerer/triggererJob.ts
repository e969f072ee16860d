import type { Knex } from 'knex';
import { WakeableSleep } from '../core/wakeableSleep.ts';
import type { ResolvedConfig } from '../config/schema.ts';
import { fernetFor } from '../core/crypto/fernetKey.ts';
import type { Logger } from '../core/logger.ts';
import { createTrigger, FAIL_METHOD, type BaseTrigger, type TriggerContext } from '../core/trigger.ts';
import { getConnection } from '../db/models/connection.ts';
import { dagRunStateReader } from '../db/models/dagRunStates.ts';
import { endJob, heartbeatJob, registerJob } from '../db/models/job.ts';
import { deleteUnusedTriggers, releaseTriggers, resumeFromTriggers, triggerIdsOf, triggersByIds } from '../db/models/trigger.ts';
import { claimTriggers } from '../db/queries/claimTriggers.ts';
import { isDatabaseUnavailable } from '../db/pgErrors.ts';
import type { Resume } from '../db/transitions.ts';
import '../operators/triggers/builtins.ts';

/** Fired triggers recorded per transaction. */
const FLUSH_BATCH = 500;

export interface TriggererOptions {
  knex: Knex;
  config: ResolvedConfig;
  logger: Logger;
  /** How many triggers it runs at most; default triggerer.defaultCapacity. */
  capacity?: number;
}

/**
 * The triggerer (Airflow's TriggererJobRunner): one process running many triggers at once as promises on
 * its event loop. Each loop it heartbeats its job row, claims triggers nobody (alive) holds up to its
 * capacity, runs the ones it holds and stops the ones it no longer holds (fired elsewhere, deleted,
 * re-claimed after its heartbeat went stale), and resumes the task instances of triggers that fired or
 * failed, in one transaction per batch that checks each trigger is still its own (ADR 0020).
 */
export class Triggerer {
  private jobId: number | null = null;
  private state: 'created' | 'running' | 'stopping' | 'stopped' = 'created';
  private readonly running = new Map<number, AbortController>();
  private pending: Resume[] = [];
  private loop: Promise<void> | null = null;
  private readonly sleeper = new WakeableSleep();
  private lastHeartbeat = 0;
  private readonly capacity: number;
  /** What triggers may read of DAG runs (DagStateTrigger, WorkflowTrigger): one reader shared by all. */
  private readonly dagRuns: ReturnType<typeof dagRunStateReader>;

  constructor(private readonly options: TriggererOptions) {
    this.capacity = options.capacity ?? options.config.triggerer.defaultCapacity;
    this.dagRuns = dagRunStateReader(options.knex);
  }

  get id(): number | null {
    return this.jobId;
  }

  /** How many triggers it runs now. */
  get size(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    if (this.state !== 'created') throw new Error(`cannot start a triggerer that is ${this.state}`);
    this.jobId = await registerJob(this.options.knex, 'TriggererJob');
    this.lastHeartbeat = Date.now();
    this.state = 'running';
    this.options.logger.info(`triggerer started (job ${this.jobId}, capacity ${this.capacity})`);
    this.loop = this.runLoop();
  }

  /** Stops every trigger, records the events already in, and hands its triggers back for another triggerer. */
  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    this.sleeper.wake();
    await this.loop;
    for (const abort of this.running.values()) abort.abort(new Error('triggerer stopping'));
    this.running.clear();
    const { knex, logger } = this.options;
    try {
      await this.flush();
      await releaseTriggers(knex, this.jobId!);
      await endJob(knex, this.jobId!, 'success');
    } catch (error) {
      // Not lost: our job goes stale and another triggerer re-claims our triggers and runs them again.
      logger.error(`the triggerer stopped without handing back its triggers: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.state = 'stopped';
  }

  private async runLoop(): Promise<void> {
    const { logger } = this.options;
    let failures = 0;
    while (this.state === 'running') {
      try {
        await this.runOnce();
        failures = 0;
      } catch (error) {
        failures += 1;
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        if (isDatabaseUnavailable(error)) logger.warn(`the database is unavailable; triggerer loop retrying (${message})`);
        else logger.error(`triggerer loop iteration failed: ${message}`);
      }
      if (this.state === 'running' && this.pending.length === 0) await this.sleeper.sleep(failures ? Math.min(10_000, 500 * 2 ** (failures - 1)) : 1_000);
    }
  }

  /** One iteration: heartbeat, fire what fired, claim, reconcile what runs with what we hold, clean up. */
  async runOnce(): Promise<void> {
    const { knex, config } = this.options;
    const me = this.jobId!;
    const heartbeatDue = Date.now() - this.lastHeartbeat >= config.triggerer.jobHeartbeatSec * 1000;
    if (heartbeatDue) {
      await heartbeatJob(knex, me);
      this.lastHeartbeat = Date.now();
    }
    await this.flush();
    await claimTriggers(knex, {
      triggererId: me,
      capacity: this.capacity - this.running.size,
      healthThresholdMs: config.triggerer.triggererHealthCheckThreshold * 1000,
    });
    const held = new Set(await triggerIdsOf(knex, me));
    for (const [id, abort] of this.running) {
      if (!held.has(id)) {
        abort.abort(new Error('trigger no longer held by this triggerer'));
        this.running.delete(id);
      }
    }
    const firing = new Set(this.pending.map((r) => r.triggerId));
    const added = [...held].filter((id) => !this.running.has(id) && !firing.has(id));
    for (const row of await triggersByIds(knex, added)) this.runTrigger(row.id, row.classpath, row.kwargs);
    if (heartbeatDue) await deleteUnusedTriggers(knex);
  }

  /**
   * Records fired and failed triggers (kept for the next loop if the database is away), FLUSH_BATCH per
   * transaction: when thousands fire at once the first ones resume without waiting for the last.
   */
  private async flush(): Promise<void> {
    while (this.pending.length > 0) await this.flushBatch(this.pending.splice(0, FLUSH_BATCH));
  }

  private async flushBatch(batch: Resume[]): Promise<void> {
    try {
      const { fired, taskInstances } = await resumeFromTriggers(this.options.knex, this.jobId!, batch, new Date());
      const first = taskInstances[0];
      if (first)
        this.options.logger.info(
          `${fired.length} trigger(s) fired: ${taskInstances.length} task instance(s) scheduled to resume, e.g. ${first.dag_id}.${first.task_id} (${first.run_id}, map index ${first.map_index})`,
        );
      if (fired.length < batch.length) this.options.logger.info(`${batch.length - fired.length} trigger event(s) dropped: the trigger is no longer ours`);
      for (const r of batch) this.running.delete(r.triggerId);
    } catch (error) {
      this.pending = [...batch, ...this.pending];
      throw error;
    }
  }

  private runTrigger(id: number, classpath: string, kwargs: Record<string, unknown>): void {
    const abort = new AbortController();
    this.running.set(id, abort);
    // Made when first used: thousands of quiet triggers need no logger each.
    let child: Logger | null = null;
    const log = () => (child ??= this.options.logger.child({ component: `trigger ${id}` }));
    let trigger: BaseTrigger;
    try {
      trigger = createTrigger(classpath, kwargs as never);
    } catch (error) {
      this.failed(id, abort, error, log);
      return;
    }
    const context: TriggerContext = {
      signal: abort.signal,
      log: { info: (m) => log().info(m), warn: (m) => log().warn(m), error: (m) => log().error(m) },
      dagRuns: this.dagRuns,
      connection: async (connId) => {
        const row = await getConnection(this.options.knex, fernetFor(this.options.config, this.options.logger), connId);
        if (!row) return undefined;
        return { ...row, extra: row.extra ? (JSON.parse(row.extra) as Record<string, unknown>) : {} };
      },
    };
    Promise.resolve()
      .then(() => trigger.run(context))
      .then(
        (event) => {
          if (abort.signal.aborted) return;
          this.pending.push({ triggerId: id, nextKwargs: { event: event.payload }, nextMethod: null });
          this.sleeper.wake();
        },
        (error) => this.failed(id, abort, error, log),
      );
  }

  /** A trigger that threw fails its task: the resumed try raises TaskDeferralError with the error and stack in its log. */
  private failed(id: number, abort: AbortController, error: unknown, log: () => Logger): void {
    if (abort.signal.aborted) return;
    const message = error instanceof Error ? error.message : String(error);
    log().error(`trigger failed: ${message}`);
    this.pending.push({
      triggerId: id,
      nextKwargs: { error: message, traceback: error instanceof Error ? (error.stack ?? null) : null },
      nextMethod: FAIL_METHOD,
    });
    this.sleeper.wake();
  }
}
