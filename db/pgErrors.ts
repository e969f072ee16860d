/** SQLSTATE codes we branch on (never on message text). */
export const UNIQUE_VIOLATION = '23505';
export const FOREIGN_KEY_VIOLATION = '23503';

export function sqlState(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

/** SQLSTATEs of a server going down or not up yet: admin shutdown, crash shutdown, cannot connect now. */
const SERVER_GOING_AWAY = new Set(['57P01', '57P02', '57P03']);
/** Socket errors of a server that cannot be reached. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * Whether `error` says the database cannot be reached right now (restarting,
 * killed, network cut) rather than that the statement is wrong: worth waiting
 * and trying again, and a 503 rather than a 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof AggregateError && error.errors.some(isDatabaseUnavailable)) return true; // one per address tried
  const code = sqlState(error);
  if (code && (SERVER_GOING_AWAY.has(code) || code.startsWith('08') || UNREACHABLE.has(code))) return true;
  if (error.name === 'KnexTimeoutError') return true; // no connection could be had from the pool in time
  // pg gives a connection that broke under a query no code, only these messages (knex prefixes the SQL).
  return /Connection terminated|connection error and is not queryable/.test(error.message);
}

/** What the client sent wrong, per Postgres data exception (SQLSTATE class 22). */
const DATA_EXCEPTIONS: Record<string, string> = {
  '22021': 'a value contains a NUL (\\u0000) character or bytes that are not UTF-8',
  '22P05': 'a JSON value contains a NUL (\\u0000) character',
  '22001': 'a value is longer than its field allows',
  '22003': 'a number is out of range',
  '22P02': 'a value does not have the expected type',
  '22007': 'a date or time is malformed',
  '22008': 'a date or time is out of range',
};

/**
 * For a Postgres data exception (class 22: the input, not the server, is at
 * fault), a message that names the problem; null for any other error. Never
 * the driver's message, which knex prefixes with the SQL.
 */
export function dataExceptionMessage(error: unknown): string | null {
  const state = sqlState(error);
  if (!state?.startsWith('22')) return null;
  return `Invalid value: ${DATA_EXCEPTIONS[state] ?? `a value cannot be stored or compared (SQLSTATE ${state})`}`;
}
