import type { Knex } from 'knex';
import pg from 'pg';
import type { Logger } from '../core/logger.ts';

/**
 * Wake-ups for schedulers in other processes: a trigger from the CLI or the
 * REST API, a clear, an unpause. Postgres NOTIFY is only a hint that
 * something changed; the scheduler's periodic pass remains the backstop, so a
 * lost notification costs latency, never correctness.
 */
export const SCHEDULER_CHANNEL = 'airflow_ts_scheduler';

/** Sends the hint; inside a transaction it is delivered when (and only if) the transaction commits. */
export async function notifyScheduler(db: Knex | Knex.Transaction, reason: string): Promise<void> {
  await db.raw('SELECT pg_notify(?, ?)', [SCHEDULER_CHANNEL, reason]);
}

/**
 * LISTENs on a dedicated connection (not a pooled one: LISTEN belongs to a
 * session). When the connection drops it reconnects with capped, jittered
 * backoff and then calls `onWake` once, since notifications sent meanwhile
 * were lost.
 */
export class WakeupListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(
    /** Read at every (re)connect: the embedded server may have come back on another port. */
    private readonly url: string | (() => string),
    private readonly onWake: (reason: string) => void,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.client?.end().catch(() => {});
    this.client = null;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: typeof this.url === 'function' ? this.url() : this.url, application_name: 'airflow-ts' });
    client.on('notification', (message) => this.onWake(message.payload ?? ''));
    // Only a connection that was up reconnects from these; a failed connect does so below, with its reason.
    client.on('error', (error) => this.client === client && this.reconnect(error));
    client.on('end', () => this.client === client && this.reconnect(new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${SCHEDULER_CHANNEL}`);
      this.client = client;
      if (this.attempt > 0) this.onWake('reconnected');
      this.attempt = 0;
    } catch (error) {
      await client.end().catch(() => {});
      this.reconnect(error);
    }
  }

  private reconnect(error: unknown): void {
    if (this.stopped || this.retryTimer) return;
    this.client = null;
    const delay = Math.min(10_000, 250 * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
    this.logger.warn(`lost the scheduler wake-up connection (${String(error)}); reconnecting in ${Math.round(delay)} ms`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
    this.retryTimer.unref();
  }
}
