import type { MultiFernet } from '../core/crypto/fernet.ts';
import { InvalidFernetToken, UndecryptableSecretError } from '../core/errors.ts';

/**
 * How secrets sit in their columns (ADR 0008): variable.val, connection.password and connection.extra hold
 * Fernet tokens, with is_encrypted / is_extra_encrypted set; rows from before encryption (flags false) are
 * plaintext and read as they are until `airflow rotate-fernet-key` encrypts them.
 */

/** A value to store: its token (null stays null, unencrypted). */
export function encryptColumn(fernet: MultiFernet, value: string | null): { value: string | null; encrypted: boolean } {
  return value === null ? { value: null, encrypted: false } : { value: fernet.encrypt(value), encrypted: true };
}

/** A stored value in clear; `what` names it in the error ("variable 'x'", "the password of connection 'y'"). */
export function decryptColumn(fernet: MultiFernet, value: string | null, encrypted: boolean, what: string): string | null {
  if (value === null || !encrypted) return value;
  try {
    return fernet.decrypt(value);
  } catch (error) {
    if (error instanceof InvalidFernetToken) throw new UndecryptableSecretError(what);
    throw error;
  }
}
