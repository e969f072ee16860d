import type { Knex } from 'knex';
import type { MultiFernet } from '../../core/crypto/fernet.ts';
import { decryptColumn, encryptColumn } from '../encryptedColumns.ts';
import { deleteRow, insertRow, listRows, updateRow, type Page, type Table, type UpdateResult } from './base.ts';
import type { Audit } from './log.ts';

/** The `variable` table as the API and UI edit it. A task reads variables through db/metastoreBackend.ts. */

const VARIABLE: Table = { name: 'variable', key: 'key', event: 'variable' };

/** Values are Fernet-encrypted in the table (ADR 0008); these functions take and return them in clear. */
export interface VariableRow {
  id: number;
  key: string;
  val: string | null;
  description: string | null;
  is_encrypted: boolean;
}

export type VariableChanges = Partial<Pick<VariableRow, 'val' | 'description'>>;

export const openVariable = (fernet: MultiFernet, row: VariableRow): VariableRow => ({
  ...row,
  val: decryptColumn(fernet, row.val, row.is_encrypted, `variable '${row.key}'`),
});

function sealVariable(fernet: MultiFernet, changes: VariableChanges): Record<string, unknown> {
  if (changes.val === undefined) return changes;
  const { value, encrypted } = encryptColumn(fernet, changes.val);
  return { ...changes, val: value, is_encrypted: encrypted };
}

export async function listVariables(knex: Knex, fernet: MultiFernet, page: Page): Promise<{ rows: VariableRow[]; total: number }> {
  const { rows, total } = await listRows<VariableRow>(knex, VARIABLE, page);
  return { rows: rows.map((row) => openVariable(fernet, row)), total };
}

export async function getVariable(knex: Knex, fernet: MultiFernet, key: string): Promise<VariableRow | undefined> {
  const row: VariableRow | undefined = await knex('variable').where('key', key).first();
  return row && openVariable(fernet, row);
}

export async function createVariable(
  knex: Knex,
  fernet: MultiFernet,
  values: { key: string; val: string; description: string | null },
  audit: Audit,
): Promise<VariableRow | null> {
  const row = await insertRow<VariableRow>(knex, VARIABLE, sealVariable(fernet, values), audit, { key: values.key });
  return row && openVariable(fernet, row);
}

export async function updateVariable(knex: Knex, fernet: MultiFernet, key: string, changes: VariableChanges, audit: Audit): Promise<UpdateResult<VariableRow>> {
  const result = await updateRow<VariableRow>(knex, VARIABLE, key, () => sealVariable(fernet, changes), audit, { key, fields: Object.keys(changes) });
  return 'row' in result ? { row: openVariable(fernet, result.row) } : result;
}

export const deleteVariable = (knex: Knex, key: string, audit: Audit) => deleteRow(knex, VARIABLE, key, audit, { key });
