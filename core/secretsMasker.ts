/**
 * Airflow's secrets masker: values a task must not reveal are replaced with `***` wherever the task's output
 * goes (its log, its rendered template fields, the XComs the UI and API show). It learns the values as
 * Airflow's does, when they are read: a connection's password (and the values of sensitive keys of its
 * extra) when the task reads the connection, a variable's value when the task reads a variable whose key
 * holds a sensitive word. Values under a sensitive key name are hidden whole, learnt or not.
 */

/** Airflow's default sensitive words ([core] sensitive_var_conn_names adds to them there): a key containing one, in any case, is secret. */
export const SENSITIVE_WORDS = [
  'access_token',
  'api_key',
  'apikey',
  'authorization',
  'passphrase',
  'passwd',
  'password',
  'private_key',
  'secret',
  'token',
  'keyfile_dict',
  'service_account',
] as const;

export const MASK = '***';

export const isSensitiveName = (name: string): boolean => SENSITIVE_WORDS.some((word) => name.toLowerCase().includes(word));

/**
 * Learnt values shorter than this are not replaced inside free text (as Airflow's min_length_masked_secret):
 * masking every "abc" or "1" in a log would wreck it and tell the secret by its gaps. Values under a
 * sensitive key name are hidden whatever their length.
 */
export const MIN_LENGTH_MASKED = 5;

/** Deeper than this a value is not walked: the whole subtree is masked (a secret could hide anywhere in it). */
const MAX_DEPTH = 32;

export class SecretsMasker {
  readonly #secrets = new Set<string>();
  #pattern: RegExp | null = null;

  /**
   * Airflow's mask_secret(value, name): a string (each of its lines too, for multi-line keys) is hidden from
   * now on; in an object, the values under sensitive key names; `name`, when sensitive, makes every string
   * inside `value` secret.
   */
  add(value: unknown, name?: string, depth = 0): void {
    if (typeof value === 'string') {
      if (name !== undefined && !isSensitiveName(name)) return;
      for (const text of [value, ...value.split(/\r?\n/)]) {
        if (text.trim().length >= MIN_LENGTH_MASKED && !this.#secrets.has(text)) {
          this.#secrets.add(text);
          this.#pattern = null;
        }
      }
    } else if (value !== null && typeof value === 'object' && depth < MAX_DEPTH) {
      for (const [key, inner] of Object.entries(value))
        this.add(inner, Array.isArray(value) ? name : name !== undefined && isSensitiveName(name) ? name : key, depth + 1);
    }
  }

  /** `text` with every learnt secret replaced by `***`. */
  mask(text: string): string {
    if (this.#secrets.size === 0) return text;
    this.#pattern ??= new RegExp(
      [...this.#secrets]
        .sort((a, b) => b.length - a.length) // longest first, so a secret containing another is masked whole
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('|'),
      'g',
    );
    return text.replace(this.#pattern, MASK);
  }

  /** A JSON-like value with learnt secrets masked in its strings and whatever sits under a sensitive key name replaced by `***`. */
  redact(value: unknown, name?: string, depth = 0): unknown {
    if (name !== undefined && isSensitiveName(name) && value !== null && value !== undefined && value !== '') return MASK;
    if (typeof value === 'string') return this.mask(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth >= MAX_DEPTH) return MASK;
    if (Array.isArray(value)) return value.map((v) => this.redact(v, name, depth + 1));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.redact(v, k, depth + 1)]));
  }
}

/** This process's masker (Airflow keeps one per process too): a warm worker's tasks add to it, and hiding more is safe. */
export const secretsMasker = new SecretsMasker();

/** What a task reads teaches the masker (Airflow masks on Connection and Variable reads): passwords, secret keys of extras, sensitive variables. */
export function maskOnRead(masker: SecretsMasker) {
  return {
    variable: (key: string, value: string) => masker.add(value, key),
    connection: (_connId: string, connection: { password: string | null; extra: Record<string, unknown> }) => {
      if (connection.password) masker.add(connection.password);
      masker.add(connection.extra);
    },
  };
}
