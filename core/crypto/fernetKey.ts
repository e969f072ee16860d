import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FernetKeyError, InvalidFernetKey } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { Fernet, generateFernetKey, MultiFernet } from './fernet.ts';

/** Where a home without core.fernet_key keeps the key it generated (ADR 0008). */
export const FERNET_KEY_FILE = 'fernet.key';

/** The two settings the key comes from (a ResolvedConfig has them; core does not import config). */
export interface FernetKeySettings {
  core: { fernetKey: string };
  airflowHome: string;
}

const HOW_TO_GENERATE = `node -e "console.log(require('crypto').randomBytes(32).toString('base64url') + '=')"`;

/**
 * The keys that encrypt connection passwords, connection extras and variable values at rest: core.fernet_key
 * (AIRFLOW__CORE__FERNET_KEY), comma-separated for rotation, the first encrypting. Without one, the key in
 * $AIRFLOW_HOME/fernet.key, created once (mode 0600) by whichever process of that home needs it first, so
 * the scheduler, its workers, the webserver and the CLI of one home share it. Secrets are never stored in
 * clear. One MultiFernet per config object: every process reads its key once.
 */
export function fernetFor(config: FernetKeySettings, logger?: Logger): MultiFernet {
  let fernet = cache.get(config);
  if (!fernet) {
    fernet = loadFernet(config, logger);
    cache.set(config, fernet);
  }
  return fernet;
}

const cache = new WeakMap<FernetKeySettings, MultiFernet>();

function loadFernet(config: FernetKeySettings, logger?: Logger): MultiFernet {
  if (config.core.fernetKey.trim()) return parseKeys(config.core.fernetKey, 'config core.fernet_key (env AIRFLOW__CORE__FERNET_KEY)');
  const file = path.join(config.airflowHome, FERNET_KEY_FILE);
  return parseKeys(readOrCreateKeyFile(file, logger), `${file} (used because core.fernet_key is not set)`);
}

function parseKeys(text: string, source: string): MultiFernet {
  const keys = text
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  if (keys.length === 0) throw new FernetKeyError(`${source} holds no Fernet key. Generate one with: ${HOW_TO_GENERATE}`);
  return new MultiFernet(
    keys.map((key, i) => {
      try {
        return new Fernet(key);
      } catch (error) {
        if (!(error instanceof InvalidFernetKey)) throw error;
        const which = keys.length > 1 ? `key ${i + 1} of ${keys.length} in ` : '';
        throw new FernetKeyError(`${which}${source} is not a Fernet key: ${error.message}. Generate one with: ${HOW_TO_GENERATE}`);
      }
    }),
  );
}

/**
 * Reads the home's key file, creating it first if it does not exist. Creation is race-free across
 * processes: the key is written to a private temporary file and hard-linked into place, which fails if
 * another process won; then everyone reads the one file. A crash leaves either no key file or a whole one.
 */
function readOrCreateKeyFile(file: string, logger?: Logger): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new FernetKeyError(`cannot read the Fernet key file ${file}: ${(error as Error).message}; set core.fernet_key instead`);
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(temporary, `${generateFernetKey()}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(temporary, 0o600); // whatever the umask
  try {
    linkSync(temporary, file);
    logger?.warn(
      `core.fernet_key is not set: generated a Fernet key into ${file} (mode 0600). Every process of this AIRFLOW_HOME uses it; set core.fernet_key where processes do not share the home, and back the key up with the database.`,
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
  return readFileSync(file, 'utf8');
}
