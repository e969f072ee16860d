import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidFernetKey, InvalidFernetToken } from '../errors.ts';

/**
 * Fernet (https://github.com/fernet/spec, version 0x80), the token format Airflow encrypts connection
 * passwords and variables with, so a value is readable by any Fernet implementation holding the key.
 * Built on Node's crypto exactly as the spec composes it: AES-128-CBC with PKCS#7 padding, then
 * HMAC-SHA256 over version ‖ timestamp ‖ IV ‖ ciphertext, compared in constant time before decrypting;
 * token and key are base64url. test/core/fernet.test.ts checks it against the spec's test vectors.
 *
 * No npm package was a better choice here: `fernet` (0.4) depends on crypto-js 3.1, whose random IVs
 * come from Math.random; the others are single-release projects.
 */

const VERSION = 0x80;
const HEADER = 1 + 8 + 16; // version, timestamp, IV
const HMAC_LENGTH = 32;
/** Tokens dated further ahead than this are refused when a TTL is checked (as the reference implementations). */
const MAX_CLOCK_SKEW_SEC = 60;

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Strict base64url: the alphabet, padding only at the end, a whole number of quanta (the spec's tokens and keys are padded). */
function decodeBase64Url(text: string): Buffer | null {
  if (!BASE64URL.test(text) || text.length % 4 !== 0) return null;
  return Buffer.from(text, 'base64url');
}

/** base64url with its padding, as the spec's tokens and keys are written. */
function encodeBase64Url(bytes: Buffer): string {
  return bytes.toString('base64').replaceAll('+', '-').replaceAll('/', '_');
}

/** Airflow's key format: Fernet.generate_key(), 32 random bytes as base64url. */
export function generateFernetKey(): string {
  return encodeBase64Url(randomBytes(32));
}

export class Fernet {
  readonly #signingKey: Buffer;
  readonly #encryptionKey: Buffer;

  constructor(key: string) {
    const bytes = decodeBase64Url(key.trim());
    if (!bytes || bytes.length !== 32) throw new InvalidFernetKey('a Fernet key must be 32 bytes encoded as url-safe base64 (44 characters ending in "=")');
    this.#signingKey = bytes.subarray(0, 16);
    this.#encryptionKey = bytes.subarray(16);
  }

  /** `at` and `iv` are for the spec's test vectors; callers leave them unset (now, and a random IV). */
  encrypt(message: string, options: { at?: Date; iv?: Buffer } = {}): string {
    const iv = options.iv ?? randomBytes(16);
    const header = Buffer.alloc(9);
    header.writeUInt8(VERSION, 0);
    header.writeBigUInt64BE(BigInt(Math.floor((options.at ?? new Date()).getTime() / 1000)), 1);
    const cipher = createCipheriv('aes-128-cbc', this.#encryptionKey, iv); // PKCS#7 padding is Node's default
    const signed = Buffer.concat([header, iv, cipher.update(message, 'utf8'), cipher.final()]);
    return encodeBase64Url(Buffer.concat([signed, this.#hmac(signed)]));
  }

  /** `ttlSec` checks the token's age against `now` (Airflow stores values without one). */
  decrypt(token: string, options: { ttlSec?: number; now?: Date } = {}): string {
    const bytes = decodeBase64Url(token);
    if (!bytes || bytes.length < HEADER + HMAC_LENGTH + 16 || bytes[0] !== VERSION) throw new InvalidFernetToken();
    const ciphertextLength = bytes.length - HEADER - HMAC_LENGTH;
    if (ciphertextLength % 16 !== 0) throw new InvalidFernetToken();
    if (options.ttlSec !== undefined) {
      const issued = Number(bytes.readBigUInt64BE(1));
      const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
      if (issued + options.ttlSec < now || issued > now + MAX_CLOCK_SKEW_SEC) throw new InvalidFernetToken();
    }
    const signed = bytes.subarray(0, bytes.length - HMAC_LENGTH);
    if (!timingSafeEqual(this.#hmac(signed), bytes.subarray(bytes.length - HMAC_LENGTH))) throw new InvalidFernetToken();
    try {
      const decipher = createDecipheriv('aes-128-cbc', this.#encryptionKey, bytes.subarray(9, HEADER));
      return Buffer.concat([decipher.update(bytes.subarray(HEADER, bytes.length - HMAC_LENGTH)), decipher.final()]).toString('utf8');
    } catch {
      throw new InvalidFernetToken(); // bad padding
    }
  }

  #hmac(data: Buffer): Buffer {
    return createHmac('sha256', this.#signingKey).update(data).digest();
  }
}

/**
 * Several keys, for rotation (Airflow's MultiFernet over the comma-separated core.fernet_key): the first
 * encrypts, every one decrypts. After `airflow rotate-fernet-key` re-encrypts every row with the first,
 * the old keys can be dropped.
 */
export class MultiFernet {
  constructor(readonly fernets: readonly Fernet[]) {
    if (fernets.length === 0) throw new InvalidFernetKey('at least one Fernet key is needed');
  }

  encrypt(message: string): string {
    return this.fernets[0]!.encrypt(message);
  }

  decrypt(token: string): string {
    for (const fernet of this.fernets) {
      try {
        return fernet.decrypt(token);
      } catch (error) {
        if (!(error instanceof InvalidFernetToken)) throw error;
      }
    }
    throw new InvalidFernetToken();
  }

  /** The same message under the first key. */
  rotate(token: string): string {
    return this.encrypt(this.decrypt(token));
  }
}
