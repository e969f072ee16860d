import type { PoolRow } from '../../../db/models/pool.ts';

/** Airflow's Pool. */
export function poolJson(row: PoolRow) {
  const occupied = row.running_slots + row.queued_slots + (row.include_deferred ? row.deferred_slots : 0);
  return {
    name: row.pool,
    slots: row.slots,
    occupied_slots: occupied,
    running_slots: row.running_slots,
    queued_slots: row.queued_slots,
    scheduled_slots: row.scheduled_slots,
    deferred_slots: row.deferred_slots,
    open_slots: row.slots - occupied,
    description: row.description,
    include_deferred: row.include_deferred,
  };
}
