import type { Knex } from 'knex';
import type { MultiFernet } from '../core/crypto/fernet.ts';
import { decryptColumn, encryptColumn } from './encryptedColumns.ts';

/**
 * `airflow rotate-fernet-key`: every variable value, connection password and connection extra re-encrypted
 * with the first key of core.fernet_key, plaintext rows from before encryption included. One transaction
 * that locks the rows it rewrites, so a concurrent edit waits and nothing is left half-rotated; if any value
 * does not decrypt with the configured keys, nothing changes and the error names it. Row at a time: these
 * are configuration tables of hundreds of rows, not task data.
 */
export async function rotateFernetKey(knex: Knex, fernet: MultiFernet): Promise<{ variables: number; connections: number }> {
  return knex.transaction(async (trx) => {
    const variables = await trx('variable').whereNotNull('val').orderBy('id').forUpdate().select('id', 'key', 'val', 'is_encrypted');
    for (const row of variables) {
      const clear = decryptColumn(fernet, row.val, row.is_encrypted, `variable '${row.key}'`);
      const { value, encrypted } = encryptColumn(fernet, clear);
      await trx('variable').where('id', row.id).update({ val: value, is_encrypted: encrypted });
    }
    const connections = await trx('connection').orderBy('id').forUpdate().select('id', 'conn_id', 'password', 'is_encrypted', 'extra', 'is_extra_encrypted');
    for (const row of connections) {
      const password = encryptColumn(fernet, decryptColumn(fernet, row.password, row.is_encrypted, `the password of connection '${row.conn_id}'`));
      const extra = encryptColumn(fernet, decryptColumn(fernet, row.extra, row.is_extra_encrypted, `the extra of connection '${row.conn_id}'`));
      await trx('connection')
        .where('id', row.id)
        .update({ password: password.value, is_encrypted: password.encrypted, extra: extra.value, is_extra_encrypted: extra.encrypted });
    }
    return { variables: variables.length, connections: connections.length };
  });
}
