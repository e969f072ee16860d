import type { Knex } from 'knex';
import { xcomListElement, xcomValueUnlessKnown } from '../db/models/xcom.ts';

/** Lists larger than this as stored are read element by element in SQL, never held here. */
const MAX_CACHED_BYTES = 8 * 1024 * 1024;
/** Upstream lists held at once: a worker usually runs instances of one or two mapped tasks at a time. */
const MAX_ENTRIES = 4;

/**
 * The upstream lists a warm worker's mapped instances take their elements from, kept between tries.
 * Every read still asks the database for the row's version (its xmin, no detoasting), so a cleared and
 * rerun upstream, or a deleted XCom, is seen at once; only an unchanged list is not read again. Without
 * it each of 10,000 instances detoasted the whole 10,000-element list to take one element (O(N²) per run).
 */
export class XComListCache {
  private readonly entries = new Map<string, { version: string; list: unknown[] }>();

  constructor(private readonly limits: { maxBytes: number; maxEntries: number } = { maxBytes: MAX_CACHED_BYTES, maxEntries: MAX_ENTRIES }) {}

  /** Element `index` and the list's length, or undefined when there is no such XCom or it is not a list (as xcomListElement). */
  async element(db: Knex, dagRunId: number, taskId: string, name: string, index: number): Promise<{ length: number; element: unknown } | undefined> {
    const key = JSON.stringify([dagRunId, taskId, name]);
    const cached = this.entries.get(key);
    const row = await xcomValueUnlessKnown(db, dagRunId, taskId, name, cached?.version ?? null, this.limits.maxBytes);
    if (!row) {
      this.entries.delete(key);
      return undefined;
    }
    if (row.tooLarge) {
      this.entries.delete(key);
      return xcomListElement(db, dagRunId, taskId, name, index);
    }
    let list: unknown[];
    if (cached && cached.version === row.version) list = cached.list;
    else if (Array.isArray(row.value)) list = this.keep(key, row.version, row.value);
    else {
      this.entries.delete(key);
      return undefined;
    }
    return { length: list.length, element: index < list.length ? list[index] : null };
  }

  private keep(key: string, version: string, list: unknown[]): unknown[] {
    this.entries.delete(key); // re-inserted last: the Map's order is least recently kept first
    this.entries.set(key, { version, list });
    while (this.entries.size > this.limits.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return list;
  }
}

/** The worker process's cache (one per process: warm workers run many tries). */
export const xcomListCache = new XComListCache();
