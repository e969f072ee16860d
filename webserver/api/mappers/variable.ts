import { isSensitiveName, MASK } from '../../../core/secretsMasker.ts';
import type { VariableRow } from '../../../db/models/variable.ts';

/** Airflow's Variable; a variable whose key holds a sensitive word shows its value as '***' (as Airflow's API). */
export function variableJson(row: VariableRow) {
  return { key: row.key, value: isSensitiveName(row.key) ? MASK : (row.val ?? ''), description: row.description };
}
