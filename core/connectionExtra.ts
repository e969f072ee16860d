import { isSensitiveName, MASK, SecretsMasker } from './secretsMasker.ts';

/**
 * A connection's `extra` as users see it: JSON with the values of sensitive keys (password, secret, token, ...)
 * shown as '***' (the API and the UI alike), and a '***' sent back on an update keeping the stored value.
 */

/** Masks by key name only (it learns no values): values under sensitive keys, and subtrees too deep to walk. */
const byName = new SecretsMasker();

/** Deeper than this, a JSON extra is not walked back for restoring (as deep as the masker walks). */
const MAX_DEPTH = 32;

/** `extra` for responses: JSON with sensitive values masked; text that is not JSON as it is (nothing to find keys in). */
export function redactExtra(extra: string | null): string | null {
  if (extra === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(extra);
  } catch {
    return extra;
  }
  try {
    return JSON.stringify(byName.redact(parsed));
  } catch {
    return MASK; // never fall back to the unmasked text
  }
}

/** Puts stored values back where the client sent a masked '***' for a sensitive key (objects by key, arrays by index). */
function restoreMasked(sent: unknown, stored: unknown, depth = 0): { value: unknown; restored: boolean } {
  const walkable = (v: unknown): v is object => v !== null && typeof v === 'object';
  if (depth >= MAX_DEPTH || !walkable(sent) || !walkable(stored) || Array.isArray(sent) !== Array.isArray(stored)) return { value: sent, restored: false };
  let restored = false;
  const entries = Object.entries(sent).map(([key, value]): [string, unknown] => {
    const old = Object.hasOwn(stored, key) ? (stored as Record<string, unknown>)[key] : undefined;
    if (!Array.isArray(sent) && isSensitiveName(key) && value === MASK && Object.hasOwn(stored, key)) {
      restored = true;
      return [key, old];
    }
    const inner = restoreMasked(value, old, depth + 1);
    restored ||= inner.restored;
    return [key, inner.value];
  });
  return { value: Array.isArray(sent) ? entries.map(([, v]) => v) : Object.fromEntries(entries), restored };
}

/** The `extra` to store when a client sends `sent` back over `stored`: each '***' under a sensitive key keeps the stored value. */
export function unmaskExtra(sent: string | null, stored: string | null): string | null {
  if (sent === null || stored === null || !sent.includes(MASK)) return sent;
  try {
    const { value, restored } = restoreMasked(JSON.parse(sent), JSON.parse(stored));
    return restored ? JSON.stringify(value) : sent;
  } catch {
    return sent;
  }
}
