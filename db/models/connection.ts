import type { Knex } from 'knex';
import type { MultiFernet } from '../../core/crypto/fernet.ts';
import { decryptColumn, encryptColumn } from '../encryptedColumns.ts';
import { deleteRow, insertRow, listRows, updateRow, type Page, type Table, type UpdateResult } from './base.ts';
import type { Audit } from './log.ts';

/** The `connection` table as the API and UI edit it. A task reads connections through db/metastoreBackend.ts. */

const CONNECTION: Table = { name: 'connection', key: 'conn_id', event: 'connection' };

/** The password and extra are Fernet-encrypted in the table (ADR 0008); these functions take and return them in clear. */
export interface ConnectionRow {
  id: number;
  conn_id: string;
  conn_type: string;
  description: string | null;
  host: string | null;
  schema: string | null;
  login: string | null;
  password: string | null;
  port: number | null;
  extra: string | null;
  is_encrypted: boolean;
  is_extra_encrypted: boolean;
}

export type ConnectionChanges = Partial<Omit<ConnectionRow, 'id' | 'conn_id' | 'is_encrypted' | 'is_extra_encrypted'>>;

export const openConnection = (fernet: MultiFernet, row: ConnectionRow): ConnectionRow => ({
  ...row,
  password: decryptColumn(fernet, row.password, row.is_encrypted, `the password of connection '${row.conn_id}'`),
  extra: decryptColumn(fernet, row.extra, row.is_extra_encrypted, `the extra of connection '${row.conn_id}'`),
});

function sealConnection(fernet: MultiFernet, changes: ConnectionChanges): Record<string, unknown> {
  const sealed: Record<string, unknown> = { ...changes };
  if (changes.password !== undefined) ({ value: sealed.password, encrypted: sealed.is_encrypted } = encryptColumn(fernet, changes.password));
  if (changes.extra !== undefined) ({ value: sealed.extra, encrypted: sealed.is_extra_encrypted } = encryptColumn(fernet, changes.extra));
  return sealed;
}

/** A connection in a list: never its password or extra, which are neither read nor decrypted (a bad key does not break the list). */
export type ConnectionListItem = Omit<ConnectionRow, 'password' | 'extra'>;

export async function listConnections(knex: Knex, page: Page): Promise<{ rows: ConnectionListItem[]; total: number }> {
  const { rows, total } = await listRows<ConnectionRow>(knex, CONNECTION, page);
  return { rows: rows.map(({ password: _password, extra: _extra, ...item }) => item), total };
}

export async function getConnection(knex: Knex, fernet: MultiFernet, connId: string): Promise<ConnectionRow | undefined> {
  const row: ConnectionRow | undefined = await knex('connection').where('conn_id', connId).first();
  return row && openConnection(fernet, row);
}

/** The audit event names the fields given, never their values (passwords, keys in extra). */
export async function createConnection(
  knex: Knex,
  fernet: MultiFernet,
  values: ConnectionChanges & { conn_id: string; conn_type: string },
  audit: Audit,
): Promise<ConnectionRow | null> {
  const fields = Object.keys(values).filter((f) => f !== 'conn_id');
  const row = await insertRow<ConnectionRow>(knex, CONNECTION, sealConnection(fernet, values), audit, { connection_id: values.conn_id, fields });
  return row && openConnection(fernet, row);
}

/** `change` sees the current row in clear (to keep redacted secrets the client sent back as '***'). */
export async function updateConnection(
  knex: Knex,
  fernet: MultiFernet,
  connId: string,
  change: (existing: ConnectionRow) => ConnectionChanges,
  fields: string[],
  audit: Audit,
): Promise<UpdateResult<ConnectionRow>> {
  const result = await updateRow<ConnectionRow>(
    knex,
    CONNECTION,
    connId,
    (existing) => sealConnection(fernet, change(openConnection(fernet, existing))),
    audit,
    { connection_id: connId, fields },
  );
  return 'row' in result ? { row: openConnection(fernet, result.row) } : result;
}

export const deleteConnection = (knex: Knex, connId: string, audit: Audit) => deleteRow(knex, CONNECTION, connId, audit, { connection_id: connId });
