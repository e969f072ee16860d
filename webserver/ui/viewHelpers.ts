import { STATE_COLORS } from '../../core/state.ts';
import { allows } from '../api/auth.ts';

/** Small formatting helpers available in every view as `h`. */
export const viewHelpers = {
  /** Whether a role may do something (to show only the links it may follow; routes check again). */
  allows,
  /** 2025-01-01 06:00:00 (UTC), or an em dash for none. */
  date(value: Date | string | null | undefined): string {
    if (!value) return '—';
    const d = value instanceof Date ? value : new Date(value);
    return Number.isNaN(d.getTime()) ? '—' : `${d.toISOString().slice(0, 19).replace('T', ' ')}`;
  },
  /** 1.2 s, 3 min 4 s, 2 h 5 min. */
  duration(seconds: number | null | undefined): string {
    if (seconds === null || seconds === undefined) return '—';
    if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
    return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  },
  color(state: string | null | undefined): string {
    return STATE_COLORS[(state ?? 'none') as keyof typeof STATE_COLORS] ?? STATE_COLORS.none;
  },
  /** Query string from an object, skipping empty values. */
  query(params: Record<string, unknown>): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    const s = q.toString();
    return s ? `?${s}` : '';
  },
};
