import type { ConnectionInfo } from '../../core/taskContext.ts';

/** A `postgres` connection to the database at `url` (the test's own embedded Postgres database). */
export function postgresConnectionFor(url: string): ConnectionInfo {
  const parsed = new URL(url);
  return {
    conn_type: 'postgres',
    host: parsed.hostname,
    port: Number(parsed.port),
    login: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    schema: parsed.pathname.slice(1),
    extra: {},
  };
}
