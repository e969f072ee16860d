import { AirflowError } from '../core/errors.ts';
import { InvalidFernetToken, type MultiFernet } from '../core/crypto/fernet.ts';

/**
 * How secrets sit in their columns (ADR 0008): variable.val, connection.password and connection.extra hold
 * Fernet tokens, with is_encrypted / is_extra_encrypted set; rows from before encryption (flags false) are
 * plaintext and read as they are until `airflow rotate-fernet-key` encrypts them.
 */

/** Thrown when a stored secret does not decrypt with any key of core.fernet_key: a configuration error, reported, never a crash. */
export class UndecryptableSecretError extends AirflowError {
  constructor(readonly what: string) {
    super(
      `Cannot decrypt ${what}: it was encrypted with a Fernet key that core.fernet_key (AIRFLOW__CORE__FERNET_KEY) does not hold. ` +
        'Add the old key after the new one (comma-separated), or set the value again.',
    );
  }
}

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
