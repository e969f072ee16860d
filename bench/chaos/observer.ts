import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

/**
 * Reads the metadata database of the system under test from outside, the
 * way a person with psql would: a fresh connection per look, to wherever the
 * embedded Postgres listens now (its postmaster.pid). It never starts or
 * restarts the server: that is the system's job.
 */
export class Observer {
  private readonly dataDir: string;
  private readonly password: string;

  constructor(airflowHome: string) {
    const clusterDir = path.join(airflowHome, 'postgres');
    this.dataDir = path.join(clusterDir, 'data');
    this.password = (JSON.parse(readFileSync(path.join(clusterDir, 'credentials.json'), 'utf8')) as { password: string }).password;
  }

  /** The postmaster's pid and port, from postmaster.pid; null when there is none. */
  postmaster(): { pid: number; port: number } | null {
    try {
      const lines = readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n');
      const pid = Number(lines[0]);
      const port = Number(lines[3]);
      return pid && port ? { pid, port } : null;
    } catch {
      return null;
    }
  }

  /** Runs one query; null when the database cannot be reached right now. */
  async query<T>(sql: string, params: unknown[] = []): Promise<T[] | null> {
    const server = this.postmaster();
    if (!server) return null;
    const client = new pg.Client({
      connectionString: `postgresql://airflow:${encodeURIComponent(this.password)}@127.0.0.1:${server.port}/airflow`,
      application_name: 'airflow-ts-chaos-observer',
      connectionTimeoutMillis: 1_000,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      return (await client.query(sql, params)).rows as T[];
    } catch {
      return null;
    } finally {
      await client.end().catch(() => {});
    }
  }

  async stateCounts(dagId: string): Promise<Record<string, number> | null> {
    const rows = await this.query<{ state: string | null; n: number }>('SELECT state, count(*)::int AS n FROM task_instance WHERE dag_id = $1 GROUP BY state', [
      dagId,
    ]);
    return rows && Object.fromEntries(rows.map((r) => [r.state ?? 'none', r.n]));
  }
}
