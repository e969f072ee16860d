import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchOptions, ExecutorName, Metric, Plan } from './scenario.ts';

export interface MetricResult {
  key: string;
  label: string;
  unit: Metric['unit'];
  /** Median over the runs; each run's own figure is in `values`. */
  median: number;
  values: number[];
  target?: { op: '<=' | '>='; value: number; met: boolean };
}

export interface ScenarioResult {
  scenario: string;
  description: string;
  executor: ExecutorName;
  status: 'ok' | 'unavailable' | 'error';
  message?: string;
  /** Runs completed. */
  runs: number;
  plan: Plan;
  metrics: MetricResult[];
}

export interface Machine {
  cpuModel: string;
  cpus: number;
  totalMemoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  /** 1/5/15-minute load averages when the bench started: other work on the machine skews the figures. */
  loadAverage: number[];
}

export interface Report {
  generatedAt: string;
  command: string;
  /** The code measured: `git describe`-style short hash, "+dirty" with uncommitted changes. */
  commit: string;
  runsPerScenario: number;
  options: BenchOptions;
  machine: Machine;
  results: ScenarioResult[];
}

export function machineInfo(postgresVersion: string, loadAverage: number[]): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: postgresVersion,
    loadAverage: loadAverage.map((l) => Math.round(l * 100) / 100),
  };
}

export function gitCommit(cwd: string): string {
  try {
    const hash = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${hash}+dirty` : hash;
  } catch {
    return 'unknown'; // not a git checkout (an installed package)
  }
}

export function formatValue(value: number, unit: Metric['unit']): string {
  if (!Number.isFinite(value)) return '—';
  if (unit === 'ms') return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : value < 1 ? `${value.toFixed(3)} ms` : `${value.toFixed(1)} ms`;
  if (unit === 'x') return `${value.toFixed(2)}×`;
  if (unit === 's') return `${value.toFixed(2)} s`;
  return `${value.toFixed(1)} ${unit}`;
}

function formatTarget(target: { op: '<=' | '>='; value: number }, unit: Metric['unit']): string {
  const shown = unit === 'ms' && target.value >= 1000 ? `${target.value / 1000} s` : unit === 'x' ? `${target.value}×` : `${target.value} ${unit}`;
  return `${target.op === '<=' ? '≤' : '≥'} ${shown}`;
}

/** The results as one Markdown table (readable in a terminal, pasteable into the README). */
export function formatTable(report: Report): string {
  const { machine } = report;
  const lines = [
    `Machine: ${machine.cpuModel} × ${machine.cpus} CPUs, ${machine.totalMemoryGiB} GiB RAM, ${machine.os}, Node ${machine.node}, Postgres ${machine.postgres}; load average at start ${machine.loadAverage.join(' ')}`,
    `Median of ${report.runsPerScenario} run(s) per scenario (\`${report.command}\`, commit ${report.commit}, ${report.generatedAt})`,
    '',
    '| scenario | executor | figure | median | runs | target | |',
    '|---|---|---|---:|---:|---|---|',
  ];
  const notes: string[] = [];
  for (const r of report.results) {
    let name = r.scenario;
    if (r.plan.note) {
      notes.push(r.plan.note);
      name += ` [${notes.length}]`;
    }
    if (r.status !== 'ok') lines.push(`| ${name} | ${r.executor} | ${r.status}: ${r.message ?? ''} | | ${r.runs} | | |`);
    if (r.status === 'unavailable') continue;
    for (const m of r.metrics) {
      const target = m.target ? formatTarget(m.target, m.unit) : '';
      const mark = m.target ? (m.target.met ? '✓' : '✗') : '';
      lines.push(`| ${name} | ${r.executor} | ${m.label} | ${formatValue(m.median, m.unit)} | ${r.runs} | ${target} | ${mark} |`);
    }
  }
  notes.forEach((note, i) => lines.push(`${i === 0 ? '\n' : ''}[${i + 1}] ${note}`));
  return lines.join('\n');
}

/** Writes bench/results/<timestamp>.json and bench/results/latest.json; returns the first path. */
export function writeReport(report: Report, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const file = path.join(dir, `${report.generatedAt.replace(/:/g, '-')}.json`); // no colons: portable file names
  writeFileSync(file, json);
  writeFileSync(path.join(dir, 'latest.json'), json);
  return file;
}
