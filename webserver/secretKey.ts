import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ResolvedConfig } from '../config/schema.ts';

export const SECRET_KEY_FILE = 'webserver_secret_key';

/**
 * The key that signs the session cookie and derives CSRF tokens:
 * `webserver.secretKey` when set (every webserver host behind one address
 * must share it, as in Airflow), else one generated once into
 * $AIRFLOW_HOME/webserver_secret_key (mode 0600), so a restart keeps everyone
 * logged in. Several processes starting at once agree on one key: the file is
 * written under a temporary name and published with link(), which fails if
 * another process published first, and a kill -9 never leaves a half-written key.
 */
export function webserverSecretKey(config: ResolvedConfig): string {
  if (config.webserver.secretKey) return config.webserver.secretKey;
  const file = path.join(config.airflowHome, SECRET_KEY_FILE);
  try {
    return readKey(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(config.airflowHome, { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temporary, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
  return readKey(file);
}

function readKey(file: string): string {
  const key = readFileSync(file, 'utf8').trim();
  if (key.length < 32) throw new Error(`${file} holds no usable key (under 32 characters); delete it to generate a new one, or set webserver.secretKey`);
  return key;
}
