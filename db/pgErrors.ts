/** SQLSTATE codes we branch on (never on message text). */
export const UNIQUE_VIOLATION = '23505';
export const FOREIGN_KEY_VIOLATION = '23503';
/** Worth retrying the whole transaction: serialization failure, deadlock detected. */
export const RETRYABLE = new Set(['40001', '40P01']);

export function sqlState(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}
