import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * The layer rules (.dependency-cruiser.cjs) and the SQL rule (eslint.config.js) fail `npm run lint` with a
 * message naming the rule. The cruiser runs with the project's config over a small tree in a temporary
 * folder (the real tree stays untouched); eslint lints text as if it were a file at a given path.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEPCRUISE = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

const trees: string[] = [];
afterEach(() => {
  for (const dir of trees.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Runs the cruiser with the project's layer rules over `files` (path → source) in a fresh folder. */
function cruise(files: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-layers-'));
  trees.push(dir);
  writeFileSync(path.join(dir, 'tsconfig.json'), readFileSync(path.join(ROOT, 'tsconfig.json')));
  for (const [file, source] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), source);
  }
  const result = spawnSync(process.execPath, [DEPCRUISE, '--config', path.join(ROOT, '.dependency-cruiser.cjs'), ...Object.keys(files)], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const SCHEMA = { 'config/schema.ts': 'export interface ResolvedConfig { home: string }\n' };

describe('the layer rules', () => {
  it('let a folder import the layers below it', () => {
    const result = cruise({
      ...SCHEMA,
      'core/state.ts': "export const states = ['queued'];\n",
      'db/rows.ts':
        "import { states } from '../core/state.ts';\nimport type { ResolvedConfig } from '../config/schema.ts';\nexport type Row = { state: (typeof states)[number]; config: ResolvedConfig };\n",
    });
    expect(result.output).toContain('no dependency violations found');
    expect(result.status).toBe(0);
  });

  it('fail a type-only import from core into config, naming the rule', () => {
    const result = cruise({ ...SCHEMA, 'core/fernetKey.ts': "import type { ResolvedConfig } from '../config/schema.ts';\nexport type K = ResolvedConfig;\n" });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('error core-imports-only-core: core/fernetKey.ts → config/schema.ts');
  });

  it('fail the runner importing an executor', () => {
    const result = cruise({
      'executors/base.ts': 'export interface TaskWorkload { tiId: number }\n',
      'runner/workerProtocol.ts': "import type { TaskWorkload } from '../executors/base.ts';\nexport type Request = { workload: TaskWorkload };\n",
    });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('error runner-imports-below-executors: runner/workerProtocol.ts → executors/base.ts');
  });

  it('fail the webserver importing the scheduler, and operators importing the runner', () => {
    const result = cruise({
      'scheduler/scheduler.ts': 'export const wake = (): void => {};\n',
      'runner/tryProcesses.ts': "export const TRY_MARK_ENV = 'AIRFLOW_TS_TRY';\n",
      'webserver/app.ts': "import { wake } from '../scheduler/scheduler.ts';\nexport const app = wake;\n",
      'operators/bashOperator.ts': "import { TRY_MARK_ENV } from '../runner/tryProcesses.ts';\nexport const mark = TRY_MARK_ENV;\n",
    });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('error webserver-imports-services-not-daemons: webserver/app.ts → scheduler/scheduler.ts');
    expect(result.output).toContain('error operators-import-core-logging: operators/bashOperator.ts → runner/tryProcesses.ts');
  });

  it('fail a UI page importing an API route file', () => {
    const result = cruise({
      'webserver/api/routes/pools.ts': 'export const poolJson = (name: string) => ({ name });\n',
      'webserver/ui/pages/pools.ts': "import { poolJson } from '../../api/routes/pools.ts';\nexport const page = poolJson;\n",
    });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('error ui-pages-not-api-routes: webserver/ui/pages/pools.ts → webserver/api/routes/pools.ts');
  });

  it('fail a runtime import cycle but not a cycle through a type-only import', () => {
    const runtime = cruise({
      'core/a.ts': "import { b } from './b.ts';\nexport const a = (): unknown => b;\n",
      'core/b.ts': "import { a } from './a.ts';\nexport const b = (): unknown => a;\n",
    });
    expect(runtime.status).not.toBe(0);
    expect(runtime.output).toContain('error no-runtime-cycle: core/a.ts →');

    const typeOnly = cruise({
      'core/a.ts': "import { b } from './b.ts';\nexport interface A { n: number }\nexport const a = (): unknown => b;\n",
      'core/b.ts': "import type { A } from './a.ts';\nexport const b = (x: A): number => x.n;\n",
    });
    expect(typeOnly.output).toContain('no dependency violations found');
    expect(typeOnly.status).toBe(0);
  });
});

describe('the SQL rule', () => {
  const eslint = new ESLint({ cwd: ROOT });
  const QUERY = "import type { Knex } from 'knex';\nexport const paused = (knex: Knex) => knex('dag').where('is_paused', true).select('dag_id');\n";

  /** The messages eslint reports for `source` as if it were the file at `file`. */
  async function lint(file: string, source: string): Promise<string[]> {
    const [result] = await eslint.lintText(source, { filePath: path.join(ROOT, file) });
    return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
  }

  it('fails a query built outside db/, naming the rule and the fix', async () => {
    const messages = await lint('webserver/ui/pages/lintProbe.ts', QUERY);
    expect(messages).toEqual(['no-restricted-syntax: sql-only-in-db: this builds a query outside db/. Move the query into db/ and call it from here.']);
    expect(
      await lint('services/lintProbe.ts', "export const now = (db: { knex: { raw(sql: string): unknown } }) => db.knex.raw('select now()');\n"),
    ).toHaveLength(1);
    expect(
      await lint('services/lintProbe.ts', "import type { Knex } from 'knex';\nexport const now = (knex: Knex) => knex.raw('select now()');\n"),
    ).toHaveLength(1);
  });

  it("leaves a `.raw` that is not a knex instance's alone (a task log's raw line)", async () => {
    expect(await lint('runner/lintProbe.ts', "export const write = (log: { raw(line: string): void }) => log.raw('hello');\n")).toEqual([]);
  });

  it('lets db/ build the same query', async () => {
    expect(await lint('db/lintProbe.ts', QUERY)).toEqual([]);
  });
});

describe('every source folder', () => {
  const hasTypeScript = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((e) => (e.isDirectory() ? hasTypeScript(path.join(dir, e.name)) : e.name.endsWith('.ts')));
  const folders = readdirSync(ROOT).filter(
    (name) => !name.startsWith('.') && name !== 'node_modules' && statSync(path.join(ROOT, name)).isDirectory() && hasTypeScript(path.join(ROOT, name)),
  );

  it('is in tsconfig.json, so tsc checks it even when nothing imports it', () => {
    const include: string[] = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8')).include;
    expect(folders.length).toBeGreaterThan(10);
    expect(folders.filter((folder) => !include.includes(folder))).toEqual([]);
  });

  it('has a layer rule of its own (bench/ and test/ may import anything)', () => {
    const { forbidden } = createRequire(import.meta.url)(path.join(ROOT, '.dependency-cruiser.cjs')) as { forbidden: { from: { path?: string } }[] };
    const ruled = (folder: string) => forbidden.some((rule) => rule.from.path !== undefined && new RegExp(rule.from.path).test(`${folder}/x.ts`));
    expect(folders.filter((folder) => !['bench', 'test'].includes(folder) && !ruled(folder))).toEqual([]);
  });
});
