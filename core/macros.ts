/**
 * Dates as Airflow templates see them (always UTC), and the `macros` object
 * of the task context: ds_add, ds_format and a few datetime helpers.
 */

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

// The strftime/strptime directives we support; a small, predictable subset of Python's.
const FORMAT: Record<string, (d: Date) => string> = {
  Y: (d) => pad(d.getUTCFullYear(), 4),
  y: (d) => pad(d.getUTCFullYear() % 100),
  m: (d) => pad(d.getUTCMonth() + 1),
  d: (d) => pad(d.getUTCDate()),
  H: (d) => pad(d.getUTCHours()),
  M: (d) => pad(d.getUTCMinutes()),
  S: (d) => pad(d.getUTCSeconds()),
  '%': () => '%',
};
const PARSE: Record<string, string> = {
  Y: '(\\d{4})',
  y: '(\\d{2})',
  m: '(\\d{1,2})',
  d: '(\\d{1,2})',
  H: '(\\d{1,2})',
  M: '(\\d{1,2})',
  S: '(\\d{1,2})',
  '%': '%',
};

/** Python's strftime for %Y %y %m %d %H %M %S %%, in UTC. */
export function strftime(date: Date, format: string): string {
  return format.replace(/%(.)/g, (_, directive: string) => {
    const fn = FORMAT[directive];
    if (!fn) throw new Error(`strftime: unsupported directive %${directive}; supported: %Y %y %m %d %H %M %S %%`);
    return fn(date);
  });
}

/** Python's strptime for the same directives; throws when `text` does not match `format` or is no real date. */
export function strptime(text: string, format: string): Date {
  const fields: string[] = [];
  const source = format.replace(/%(.)|([^%]+)/g, (_, directive: string | undefined, literal: string | undefined) => {
    if (literal !== undefined) return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = PARSE[directive as string];
    if (!pattern) throw new Error(`strptime: unsupported directive %${directive}; supported: %Y %y %m %d %H %M %S %%`);
    if (directive !== '%') fields.push(directive as string);
    return pattern;
  });
  const match = new RegExp(`^${source}$`).exec(text);
  if (!match) throw new Error(`time data ${JSON.stringify(text)} does not match format ${JSON.stringify(format)}`);
  const v = { Y: 1900, m: 1, d: 1, H: 0, M: 0, S: 0 };
  fields.forEach((f, i) => {
    const n = Number(match[i + 1]);
    if (f === 'y')
      v.Y = n < 69 ? 2000 + n : 1900 + n; // Python's pivot year
    else v[f as keyof typeof v] = n;
  });
  const date = new Date(Date.UTC(v.Y, v.m - 1, v.d, v.H, v.M, v.S));
  // Date.UTC rolls 2024-02-30 over to March; Python refuses it, and so do we.
  if (date.getUTCMonth() !== v.m - 1 || date.getUTCDate() !== v.d || v.H > 23 || v.M > 59 || v.S > 59) {
    throw new Error(`time data ${JSON.stringify(text)} is not a valid date for format ${JSON.stringify(format)}`);
  }
  return date;
}

/** Airflow's `ts`: ISO 8601 with a +00:00 offset and microseconds only when non-zero, like Python's isoformat(). */
export function isoformat(date: Date): string {
  const ms = date.getUTCMilliseconds();
  return `${strftime(date, '%Y-%m-%dT%H:%M:%S')}${ms ? `.${pad(ms, 3)}000` : ''}+00:00`;
}

/**
 * A Date that renders in templates the way Airflow's pendulum datetimes do
 * (`{{ logical_date }}` -> 2024-01-01T00:00:00+00:00) and has strftime().
 */
export class TemplateDate extends Date {
  override toString(): string {
    return isoformat(this);
  }
  strftime(format: string): string {
    return strftime(this, format);
  }
  isoformat(): string {
    return isoformat(this);
  }
}

/** Airflow's template filters on datetimes: `{{ data_interval_end | ds }}`. */
export const DATE_FILTERS = {
  ds: (d) => strftime(d, '%Y-%m-%d'),
  ds_nodash: (d) => strftime(d, '%Y%m%d'),
  ts: (d) => isoformat(d),
  ts_nodash: (d) => strftime(d, '%Y%m%dT%H%M%S'),
  ts_nodash_with_tz: (d) => isoformat(d).replace(/[-:]/g, ''),
} satisfies Record<string, (date: Date) => string>;

/** Airflow's `macros.ds_add('2024-01-01', 5)` -> '2024-01-06'; days may be negative. */
export function dsAdd(ds: string, days: number | string): string {
  const n = Number(days);
  if (!Number.isInteger(n)) throw new Error(`ds_add: days must be an integer, got ${JSON.stringify(days)}`);
  const date = strptime(ds, '%Y-%m-%d');
  return strftime(new Date(date.getTime() + n * 86_400_000), '%Y-%m-%d');
}

/** Airflow's `macros.ds_format('2024-01-05', '%Y-%m-%d', '%d/%m/%y')` -> '05/01/24'. */
export function dsFormat(ds: string, inputFormat: string, outputFormat: string): string {
  return strftime(strptime(ds, inputFormat), outputFormat);
}

/** The context's `macros`, named as in Airflow so its templates work unchanged. */
export const macros = {
  ds_add: dsAdd,
  ds_format: dsFormat,
  strftime,
  strptime: (text: string, format: string) => new TemplateDate(strptime(text, format).getTime()),
  /** `macros.datetime('2024-01-01T06:00:00Z')`, or now without an argument. */
  datetime: (value?: string | number | Date) => new TemplateDate(value === undefined ? Date.now() : new Date(value).getTime()),
  /** Adds days (fractions allowed) to a date: `macros.add_days(logical_date, -1) | ds`. */
  add_days: (date: Date, days: number) => new TemplateDate(date.getTime() + Number(days) * 86_400_000),
  json: { dumps: (value: unknown, indent?: number) => JSON.stringify(value, null, indent), loads: (text: string): unknown => JSON.parse(text) },
} as const;

export type Macros = typeof macros;
