import { describe, expect, it } from 'vitest';
import { isSensitiveName, MIN_LENGTH_MASKED, SecretsMasker } from '../../core/secretsMasker.ts';

describe('SecretsMasker', () => {
  it("knows Airflow's sensitive words in any case, inside longer names", () => {
    for (const name of [
      'password',
      'DB_PASSWORD',
      'my_api_key',
      'ApiKey',
      'x-authorization',
      'gpg_passphrase',
      'passwd',
      'ssh_private_key',
      'client_secret',
      'access_token',
      'keyfile_dict',
      'service_account_json',
    ]) {
      expect(isSensitiveName(name), name).toBe(true);
    }
    for (const name of ['region', 'host', 'bucket', 'user']) expect(isSensitiveName(name), name).toBe(false);
  });

  it('masks every occurrence of a learnt value, longest first, multi-line values line by line, short values not at all', () => {
    const masker = new SecretsMasker();
    masker.add('hunter2-pw');
    masker.add('hunter2-pw-longer');
    masker.add('-----BEGIN KEY-----\nAAAAbbbbCCCC\n-----END KEY-----');
    masker.add('abcd'); // shorter than MIN_LENGTH_MASKED
    expect(MIN_LENGTH_MASKED).toBe(5);
    expect(masker.mask('a hunter2-pw, b hunter2-pw-longer.')).toBe('a ***, b ***.');
    expect(masker.mask('line: AAAAbbbbCCCC')).toBe('line: ***');
    expect(masker.mask('abcd stays')).toBe('abcd stays');
    expect(masker.mask('regex chars are literal: hunter2.pw')).toBe('regex chars are literal: hunter2.pw');
  });

  it('learns from objects only the values under sensitive keys, or everything under a sensitive name', () => {
    const masker = new SecretsMasker();
    masker.add({ region: 'eu-west-1', token: 'tok-12345', nested: { client_secret: 'cs-67890', hosts: ['h1.example'] } });
    masker.add(['list-secret-1'], 'api_keys');
    expect(masker.mask('eu-west-1 tok-12345 cs-67890 h1.example list-secret-1')).toBe('eu-west-1 *** *** h1.example ***');
  });

  it('redacts structures: learnt values in strings, whole values under sensitive keys, very deep subtrees', () => {
    const masker = new SecretsMasker();
    masker.add('learnt-secret');
    let deep: unknown = 'bottom';
    for (let i = 0; i < 40; i++) deep = { level: deep };
    expect(
      masker.redact({ cmd: 'echo learnt-secret', env: { PASSWORD: 'x', PATH: '/bin' }, list: ['learnt-secret', 1, null], api_key: { any: 'thing' }, deep }),
    ).toEqual({
      cmd: 'echo ***',
      env: { PASSWORD: '***', PATH: '/bin' },
      list: ['***', 1, null],
      api_key: '***',
      deep: expect.anything(),
    });
    expect(JSON.stringify(masker.redact(deep))).toContain('"***"');
  });
});
