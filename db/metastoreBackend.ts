import type { Knex } from 'knex';
import type { MultiFernet } from '../core/crypto/fernet.ts';
import { FernetKeyError, InvalidFernetToken } from '../core/errors.ts';
import { isSensitiveName, SecretsMasker } from '../core/secretsMasker.ts';
import type { ConnectionInfo, Lookup } from '../core/taskContext.ts';
import { decryptColumn } from './encryptedColumns.ts';
import { openConnection, type ConnectionRow } from './models/connection.ts';
import { openVariable, type VariableRow } from './models/variable.ts';

/**
 * Variables and connections as tasks read them from the metadata database
 * (Airflow's MetastoreBackend), and the secrets among them a process must mask.
 */

/** A variable as stored: its value is a Fernet token when is_encrypted (ADR 0008). */
export interface StoredVariable {
  val: string | null;
  is_encrypted: boolean;
}

/** A connection as stored: password and extra are Fernet tokens when their flags are set. */
export interface StoredConnection extends Omit<ConnectionInfo, 'extra'> {
  extra: string | null;
  is_encrypted: boolean;
  is_extra_encrypted: boolean;
}

export interface StoredConfigObjects {
  variables: Map<string, StoredVariable>;
  connections: Map<string, StoredConnection>;
}

/** What a task's context reads: values in clear, decrypted when first read. */
export interface ConfigObjects {
  variables: Lookup<string>;
  connections: Lookup<ConnectionInfo>;
}

/** Told each variable and connection a task reads, in clear (the secrets masker learns what to hide this way, as Airflow's). */
export interface ReadListener {
  variable(key: string, value: string): void;
  connection(connId: string, connection: ConnectionInfo): void;
}

/**
 * Two json columns, `variables` (key → value) and `connections` (conn_id → fields), for a task's
 * context (templates read `{{ var.value.x }}` and `{{ conn.db.host }}` synchronously). The statements
 * that start a try select them too, so a task gets them without a round trip of its own; `when` is
 * an SQL condition (both come back null, i.e. empty, when it is false). Values come as stored
 * (encrypted); openConfigObjects() decrypts what the task reads.
 */
export function configObjectsColumns(when = 'true'): string {
  return `(SELECT json_object_agg(key, json_build_object('val', val, 'is_encrypted', is_encrypted)) FROM variable WHERE ${when}) AS variables,
  (SELECT json_object_agg(conn_id, json_build_object('conn_type', conn_type, 'host', host, 'port', port, 'login', login, 'password', password, 'schema', schema, 'extra', extra,
                                                      'is_encrypted', is_encrypted, 'is_extra_encrypted', is_extra_encrypted))
     FROM connection WHERE ${when}) AS connections`;
}

/** All variables and connections as stored (encrypted), in one round trip: for storedSecrets() and openConfigObjects(). */
export async function loadStoredConfigObjects(knex: Knex): Promise<StoredConfigObjects> {
  const { rows } = await knex.raw(`SELECT ${configObjectsColumns()}`);
  return configObjectsOf(rows[0]);
}

/** All variables and connections, in one round trip, in clear as a task would read them. */
export async function loadVariablesAndConnections(knex: Knex, fernet: MultiFernet, onRead?: ReadListener): Promise<ConfigObjects> {
  const { rows } = await knex.raw(`SELECT ${configObjectsColumns()}`);
  return openConfigObjects(configObjectsOf(rows[0]), () => fernet, onRead);
}

/** The maps from a row holding configObjectsColumns() (null aggregates: no rows). */
export function configObjectsOf(row: {
  variables: Record<string, StoredVariable> | null;
  connections: Record<string, StoredConnection> | null;
}): StoredConfigObjects {
  return { variables: new Map(Object.entries(row.variables ?? {})), connections: new Map(Object.entries(row.connections ?? {})) };
}

/**
 * Lookups over stored variables and connections that decrypt a value when it is first read, so a task
 * pays for (and, with a wrong key, fails on) only the secrets it uses; `fernet` is called only then.
 */
export function openConfigObjects(stored: StoredConfigObjects, fernet: () => MultiFernet, onRead?: ReadListener): ConfigObjects {
  const variables = new Map<string, string>();
  const connections = new Map<string, ConnectionInfo>();
  return {
    variables: {
      get(key) {
        if (!variables.has(key)) {
          const found = stored.variables.get(key);
          if (!found) return undefined;
          const value = decryptColumn(fernet(), found.val, found.is_encrypted, `variable '${key}'`) ?? '';
          variables.set(key, value);
          onRead?.variable(key, value);
        }
        return variables.get(key);
      },
    },
    connections: {
      get(connId) {
        if (!connections.has(connId)) {
          const found = stored.connections.get(connId);
          if (!found) return undefined;
          const { is_encrypted, is_extra_encrypted, ...fields } = found;
          const what = (field: string) => `the ${field} of connection '${connId}'`;
          const connection: ConnectionInfo = {
            ...fields,
            password: found.password === null ? null : decryptColumn(fernet(), found.password, is_encrypted, what('password')),
            extra: parseExtra(found.extra === null ? null : decryptColumn(fernet(), found.extra, is_extra_encrypted, what('extra'))),
          };
          connections.set(connId, connection);
          onRead?.connection(connId, connection);
        }
        return connections.get(connId);
      },
    },
  };
}

/** Decrypted tokens of this process: a warm worker sees the same secrets every try and decrypts each once. */
const clearByToken = new Map<string, string>();

const CACHE_LIMIT = 10_000;

/**
 * Every connection password, connection extra (parsed) and sensitive variable value that decrypts with the
 * current key, each with the name to mask it under: what a task process hides from the start of a try,
 * whether or not the task reads it (a value can also arrive through an upstream XCom). Rows that do not
 * decrypt are skipped: the task cannot read them either (it gets the error if it tries).
 */
export function storedSecrets(stored: StoredConfigObjects, fernet: () => MultiFernet): { value: unknown; name?: string }[] {
  const clear = (value: string, encrypted: boolean): string | null => {
    if (!encrypted) return value;
    let found = clearByToken.get(value);
    if (found === undefined) {
      try {
        found = fernet().decrypt(value);
      } catch (error) {
        if (error instanceof InvalidFernetToken || error instanceof FernetKeyError) return null; // nothing the task can read either
        throw error;
      }
      if (clearByToken.size >= CACHE_LIMIT) clearByToken.clear();
      clearByToken.set(value, found);
    }
    return found;
  };
  const secrets: { value: unknown; name?: string }[] = [];
  for (const connection of stored.connections.values()) {
    const password = connection.password === null ? null : clear(connection.password, connection.is_encrypted);
    if (password) secrets.push({ value: password });
    const extra = connection.extra === null ? null : clear(connection.extra, connection.is_extra_encrypted);
    if (extra) secrets.push({ value: parseExtra(extra) });
  }
  for (const [key, variable] of stored.variables) {
    if (!isSensitiveName(key) || variable.val === null) continue;
    const value = clear(variable.val, variable.is_encrypted);
    if (value) secrets.push({ value, name: key });
  }
  return secrets;
}

function parseExtra(extra: string | null): Record<string, unknown> {
  if (!extra) return {};
  try {
    const parsed: unknown = JSON.parse(extra);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * A masker that knows every connection password (and the values of sensitive keys of extras) and every
 * value of a variable with a sensitive key: what the webserver hides in XCom values it shows, since it
 * cannot know which of them the task read (ADR 0008).
 */
export async function loadSecretsMasker(knex: Knex, fernet: MultiFernet): Promise<SecretsMasker> {
  const masker = new SecretsMasker();
  const connections: ConnectionRow[] = await knex('connection').whereNotNull('password').orWhereNotNull('extra');
  for (const row of connections.map((c) => openConnection(fernet, c))) {
    if (row.password) masker.add(row.password);
    if (row.extra) masker.add(parseJsonOrNull(row.extra));
  }
  const variables: VariableRow[] = await knex('variable').whereNotNull('val').select('id', 'key', 'val', 'is_encrypted');
  for (const row of variables.filter((v) => isSensitiveName(v.key))) masker.add(openVariable(fernet, row).val, row.key);
  return masker;
}

function parseJsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
