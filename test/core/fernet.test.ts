import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Fernet, generateFernetKey, InvalidFernetKey, InvalidFernetToken, MultiFernet } from '../../core/crypto/fernet.ts';

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
