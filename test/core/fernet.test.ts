import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/resolveConfig.ts';
import { FERNET_KEY_FILE, fernetFor } from '../../core/crypto/fernetKey.ts';
import { Fernet, generateFernetKey, MultiFernet } from '../../core/crypto/fernet.ts';
import { FernetKeyError, InvalidFernetKey, InvalidFernetToken } from '../../core/errors.ts';

/** The Fernet spec's own test vectors (https://github.com/fernet/spec: generate.json, verify.json, invalid.json). */
interface Vector {
  desc?: string;
  token: string;
  now: string;
  secret: string;
  src?: string;
  iv?: number[];
  ttl_sec?: number;
}
const vectors = (name: string): Vector[] => JSON.parse(readFileSync(new URL(`../fixtures/fernet/${name}.json`, import.meta.url), 'utf8'));

describe('Fernet (spec test vectors)', () => {
  it.each(vectors('generate'))('generates the spec token for "$src"', (v) => {
    expect(new Fernet(v.secret).encrypt(v.src!, { at: new Date(v.now), iv: Buffer.from(v.iv!) })).toBe(v.token);
  });

  it.each(vectors('verify'))('verifies the spec token for "$src"', (v) => {
    expect(new Fernet(v.secret).decrypt(v.token, { ttlSec: v.ttl_sec, now: new Date(v.now) })).toBe(v.src);
  });

  it.each(vectors('invalid'))('refuses a token: $desc', (v) => {
    expect(() => new Fernet(v.secret).decrypt(v.token, { ttlSec: v.ttl_sec, now: new Date(v.now) })).toThrow(InvalidFernetToken);
  });
});

describe('Fernet keys and rotation', () => {
  it('round-trips text (unicode, empty, long) with a generated key, a fresh IV each time', () => {
    const fernet = new Fernet(generateFernetKey());
    for (const text of ['', 'p@ss wörd ✓', 'x'.repeat(10_000)]) expect(fernet.decrypt(fernet.encrypt(text))).toBe(text);
    expect(fernet.encrypt('same')).not.toBe(fernet.encrypt('same'));
  });

  it('refuses a key that is not 32 bytes of base64url, without echoing it', () => {
    for (const key of ['', 'short', 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4', `${generateFernetKey()}x`]) {
      expect(() => new Fernet(key)).toThrow(InvalidFernetKey);
    }
    try {
      new Fernet('not-a-real-key-but-a-secret');
    } catch (error) {
      expect((error as Error).message).not.toContain('not-a-real-key-but-a-secret');
    }
  });

  it('MultiFernet encrypts with the first key, decrypts with any, rotates to the first', () => {
    const [oldKey, newKey] = [generateFernetKey(), generateFernetKey()];
    const old = new MultiFernet([new Fernet(oldKey)]);
    const token = old.encrypt('secret');
    const both = new MultiFernet([new Fernet(newKey), new Fernet(oldKey)]);
    expect(both.decrypt(token)).toBe('secret');
    const rotated = both.rotate(token);
    expect(new Fernet(newKey).decrypt(rotated)).toBe('secret');
    expect(() => old.decrypt(rotated)).toThrow(InvalidFernetToken);
    expect(() => new MultiFernet([new Fernet(generateFernetKey())]).decrypt(token)).toThrow(InvalidFernetToken);
  });
});

describe('fernetFor (core.fernet_key)', () => {
  const configWith = (env: Record<string, string>) =>
    resolveConfig({
      cwd: os.tmpdir(),
      env: { AIRFLOW_HOME: path.join(mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-home-')), 'not', 'yet', 'made'), ...env },
    });

  it('takes comma-separated keys: the first encrypts, every one decrypts', async () => {
    const [newKey, oldKey] = [generateFernetKey(), generateFernetKey()];
    const fernet = fernetFor(await configWith({ AIRFLOW__CORE__FERNET_KEY: ` ${newKey} , ${oldKey} ` }));
    expect(new Fernet(newKey).decrypt(fernet.encrypt('x'))).toBe('x');
    expect(fernet.decrypt(new Fernet(oldKey).encrypt('y'))).toBe('y');
  });

  it('names core.fernet_key and which key is wrong, never the key itself', async () => {
    const cases = [
      { value: ' , ', message: /core\.fernet_key \(env AIRFLOW__CORE__FERNET_KEY\) holds no Fernet key/ },
      { value: `${generateFernetKey()},not-a-key-secret-text`, message: /key 2 of 2 in config core\.fernet_key .* is not a Fernet key/ },
    ];
    for (const { value, message } of cases) {
      const config = await configWith({ AIRFLOW__CORE__FERNET_KEY: value });
      expect(() => fernetFor(config)).toThrow(FernetKeyError);
      expect(() => fernetFor(config)).toThrow(message);
      try {
        fernetFor(config);
      } catch (error) {
        expect((error as Error).message).not.toContain('not-a-key-secret-text');
      }
    }
  });

  it('without one, generates a key into $AIRFLOW_HOME/fernet.key (creating the home) and reuses it', async () => {
    const config = await configWith({});
    const first = fernetFor(config).encrypt('kept');
    const file = path.join(config.airflowHome, FERNET_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(new Fernet(readFileSync(file, 'utf8').trim()).decrypt(first)).toBe('kept');
    // Another process of the home (a fresh config object: nothing cached) reads the same key.
    expect(fernetFor(await resolveConfig({ cwd: os.tmpdir(), env: { AIRFLOW_HOME: config.airflowHome } })).decrypt(first)).toBe('kept');
  });
});
