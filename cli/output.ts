import YAML from 'yaml';
import { isoWithOffset } from '../core/isoDate.ts';

/** Airflow's `-o/--output` choices for listings. */
export const OUTPUT_FORMATS = ['table', 'json', 'yaml', 'plain'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const outputOption = {
  alias: 'o',
  choices: OUTPUT_FORMATS,
  default: 'table' as OutputFormat,
  describe: 'Output format',
} as const;

type Row = Record<string, unknown>;

/**
 * Prints rows the way Airflow's CLI does: an aligned table for people, JSON or
 * YAML (snake_case field names) for scripts. Dates print as ISO 8601.
 */
export function printRows(rows: Row[], format: OutputFormat, columns?: string[]): void {
  process.stdout.write(renderRows(rows, format, columns));
}

export function renderRows(rows: Row[], format: OutputFormat, columns?: string[]): string {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const picked = rows.map((r) => Object.fromEntries(cols.map((c) => [c, toJsonValue(r[c])])));
  if (format === 'json') return `${JSON.stringify(picked, null, 2)}\n`;
  if (format === 'yaml') return picked.length ? YAML.stringify(picked) : '[]\n';
  if (rows.length === 0) return 'No data found\n';
  const cells = picked.map((r) => cols.map((c) => cellText(r[c])));
  if (format === 'plain') return `${[cols, ...cells].map((line) => line.join('\t')).join('\n')}\n`;
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((line) => line[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join(' | ')
      .trimEnd();
  return `${[line(cols), widths.map((w) => '='.repeat(w)).join('=+='), ...cells.map(line)].join('\n')}\n`;
}

function toJsonValue(value: unknown): unknown {
  return value instanceof Date ? isoWithOffset(value) : value === undefined ? null : value;
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (Array.isArray(value)) return value.map(String).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/\s*\n\s*/g, ' ');
}
