import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BaseOperator } from '../../core/baseOperator.ts';
import { DAG, isDag } from '../../core/dag.ts';
import type { DagOptions } from '../../core/dagOptions.ts';
import { DagCycleError, DagDefinitionError } from '../../core/errors.ts';
import { Param, serializeParams } from '../../core/param.ts';
import { dagHash, serializeDag, type SerializedDag } from '../../core/serialize.ts';
import { BashOperator } from '../../operators/bashOperator.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';
import { FunctionOperator } from '../../operators/functionOperator.ts';

const thisFile = fileURLToPath(import.meta.url);

/** The same small DAG every time it is called, with optional overrides. */
function buildDag(overrides: Partial<DagOptions> = {}, retries = 2) {
  const dag = new DAG({
    dagId: 'serialized',
    schedule: '0 6 * * *',
    startDate: new Date('2024-01-01T00:00:00Z'),
    endDate: new Date('2025-01-01T00:00:00Z'),
    catchup: false,
    timezone: 'Europe/Amsterdam',
    tags: ['example', 'test'],
    description: 'A DAG to serialize',
    doc: '# Hello',
    maxActiveRuns: 2,
    maxActiveTasks: 8,
    dagrunTimeout: { hours: 2 },
    isPausedUponCreation: true,
    params: { env: new Param('dev', { type: 'string', enum: ['dev', 'prod'], description: 'Target' }), limit: 10 },
    defaultArgs: { owner: 'zoe', retries },
    ...overrides,
  });
  const extract = new BashOperator({ dag, taskId: 'extract', bashCommand: 'echo {{ ds }}', env: { A: '1' }, pool: 'io', poolSlots: 2 });
  const transform = new FunctionOperator({
    dag,
    taskId: 'transform',
    owner: 'adam',
    fn: function transformRows() {
      return 1;
    },
    opKwargs: { limit: '{{ params.limit }}' },
    triggerRule: 'none_failed',
    retryDelay: { seconds: 10 },
    retryExponentialBackoff: true,
    maxRetryDelay: { minutes: 10 },
    executionTimeout: { minutes: 1 },
    onFailureCallback: () => {},
    executorConfig: { memory: '1Gi' },
    doc: 'Transforms',
    params: { limit: 5 },
  });
  const load = new EmptyOperator({ dag, taskId: 'load', priorityWeight: 10, queue: 'fast', dependsOnPast: true });
  extract.then(transform).then(load);
  return dag;
}

describe('serializeDag', () => {
  it('produces the documented shape', () => {
    const dag = buildDag();
    const s = serializeDag(dag);
    expect(s).toEqual({
      dagId: 'serialized',
      fileloc: thisFile,
      line: expect.any(Number),
      description: 'A DAG to serialize',
      doc: '# Hello',
      schedule: '0 6 * * *',
      timezone: 'Europe/Amsterdam',
      startDate: '2024-01-01T00:00:00.000Z',
      endDate: '2025-01-01T00:00:00.000Z',
      catchup: false,
      tags: ['example', 'test'],
      owners: ['adam', 'zoe'],
      params: {
        env: { default: 'dev', description: 'Target', schema: { type: 'string', enum: ['dev', 'prod'] } },
        limit: { default: 10, schema: {} },
      },
      maxActiveRuns: 2,
      maxActiveTasks: 8,
      dagrunTimeoutMs: 7_200_000,
      isPausedUponCreation: true,
      tasks: [expect.objectContaining({ taskId: 'extract' }), expect.objectContaining({ taskId: 'transform' }), expect.objectContaining({ taskId: 'load' })],
    } satisfies Record<Exclude<keyof SerializedDag, 'taskGroup' | 'callbacks'>, unknown>); // taskGroup only when the DAG has groups, callbacks only with DAG-level callbacks
    expect(s.line).toBe(dag.definedAt.line);

    expect(s.tasks[0]).toEqual({
      taskId: 'extract',
      operator: 'BashOperator',
      upstreamTaskIds: [],
      downstreamTaskIds: ['transform'],
      owner: 'zoe',
      triggerRule: 'all_success',
      retries: 2,
      retryDelayMs: 300_000,
      retryExponentialBackoff: false,
      maxRetryDelayMs: null,
      executionTimeoutMs: null,
      dependsOnPast: false,
      pool: 'io',
      poolSlots: 2,
      priorityWeight: 1,
      queue: 'default',
      params: {
        env: { default: 'dev', description: 'Target', schema: { type: 'string', enum: ['dev', 'prod'] } },
        limit: { default: 10, schema: {} },
      },
      templateFields: ['bashCommand', 'env'],
      fields: { bashCommand: 'echo {{ ds }}', env: { A: '1' }, appendEnv: false, cwd: null, skipOnExitCode: [99] },
      executorConfig: null,
      doc: null,
      callbacks: { onSuccess: false, onFailure: false, onRetry: false },
      line: expect.any(Number),
    });
    expect(s.tasks[1]).toMatchObject({
      operator: 'FunctionOperator',
      upstreamTaskIds: ['extract'],
      downstreamTaskIds: ['load'],
      owner: 'adam',
      triggerRule: 'none_failed',
      retryDelayMs: 10_000,
      retryExponentialBackoff: true,
      maxRetryDelayMs: 600_000,
      executionTimeoutMs: 60_000,
      templateFields: ['opKwargs'],
      fields: { fnName: 'transformRows', opKwargs: { limit: '{{ params.limit }}' } },
      executorConfig: { memory: '1Gi' },
      doc: 'Transforms',
      callbacks: { onSuccess: false, onFailure: true, onRetry: false },
    });
    expect(s.tasks[1]?.params.limit).toEqual({ default: 5, schema: {} });
    expect(s.tasks[2]).toMatchObject({ operator: 'EmptyOperator', priorityWeight: 10, queue: 'fast', dependsOnPast: true, fields: {}, templateFields: [] });
    expect(JSON.parse(JSON.stringify(s))).toEqual(s); // plain JSON all the way down
  });

  it('serializes manual and interval schedules and missing optional values as null', () => {
    const manual = serializeDag(new DAG({ dagId: 'manual' }));
    expect(manual).toMatchObject({
      schedule: null,
      startDate: null,
      endDate: null,
      catchup: null,
      isPausedUponCreation: null,
      description: null,
      owners: [],
      tasks: [],
    });
    const every = serializeDag(new DAG({ dagId: 'every', schedule: { minutes: 15 }, startDate: new Date(0) }));
    expect(every.schedule).toEqual({ everyMs: 900_000 });
  });

  it('lists tasks in topological order', () => {
    const dag = new DAG({ dagId: 'order' });
    const [c, b, a] = ['c', 'b', 'a'].map((taskId) => new EmptyOperator({ dag, taskId }));
    a!.then(b!).then(c!);
    expect(serializeDag(dag).tasks.map((t) => t.taskId)).toEqual(['a', 'b', 'c']);
  });

  it('names anonymous functions', () => {
    const dag = new DAG({ dagId: 'anon' });
    const fns = [() => 1];
    new FunctionOperator({ dag, taskId: 'f', fn: fns[0]! });
    expect(serializeDag(dag).tasks[0]?.fields.fnName).toBe('<anonymous>');
  });

  it('validates first, so a cycle throws', () => {
    const dag = new DAG({ dagId: 'loop' });
    const a = new EmptyOperator({ dag, taskId: 'a' });
    a.then(new EmptyOperator({ dag, taskId: 'b' })).then(a);
    expect(() => serializeDag(dag)).toThrow(DagCycleError);
    expect(() => serializeDag(dag)).toThrow('a -> b -> a');
  });

  it('checks what custom operators return from serializeFields', () => {
    class DateOperator extends BaseOperator {
      serializeFields() {
        return { when: new Date() };
      }
    }
    class ForgetfulOperator extends BaseOperator {
      static override readonly templateFields = ['sql'];
      serializeFields() {
        return {};
      }
    }
    const dag = new DAG({ dagId: 'custom' });
    new DateOperator({ dag, taskId: 'd' });
    expect(() => serializeDag(dag)).toThrow("task 'd' in DAG 'custom' (DateOperator): serializeFields().when is a Date");
    const dag2 = new DAG({ dagId: 'custom2' });
    new ForgetfulOperator({ dag: dag2, taskId: 'f' });
    expect(() => serializeDag(dag2)).toThrow("template field 'sql' is missing from serializeFields()");
  });
});

describe('dagHash', () => {
  it('is stable: the same DAG built twice hashes the same', () => {
    const first = dagHash(serializeDag(buildDag()));
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(dagHash(serializeDag(buildDag()))).toBe(first);
  });

  it('ignores key order', () => {
    const s = serializeDag(buildDag());
    const reordered = Object.fromEntries(Object.entries(s).reverse()) as unknown as SerializedDag;
    expect(dagHash(reordered)).toBe(dagHash(s));
  });

  it('changes when the DAG changes', () => {
    const base = dagHash(serializeDag(buildDag()));
    expect(dagHash(serializeDag(buildDag({}, 3)))).not.toBe(base);
    expect(dagHash(serializeDag(buildDag({ schedule: '@daily' })))).not.toBe(base);
    expect(dagHash(serializeDag(buildDag({ tags: ['example'] })))).not.toBe(base);
  });
});

describe('serializeParams', () => {
  it('wraps plain values and expands Params', () => {
    expect(
      serializeParams({
        plain: 3,
        nested: { a: [1, 'b', null, true] },
        p: new Param(5, { type: ['integer', 'null'], minimum: 1, maximum: 9, title: 'P' }),
        s: new Param('x', { type: 'string', minLength: 1, maxLength: 3, pattern: '^[a-z]+$' }),
        required: new Param(undefined, { type: 'string' }),
      }),
    ).toEqual({
      plain: { default: 3, schema: {} },
      nested: { default: { a: [1, 'b', null, true] }, schema: {} },
      p: { default: 5, schema: { type: ['integer', 'null'], minimum: 1, maximum: 9, title: 'P' } },
      s: { default: 'x', schema: { type: 'string', minLength: 1, maxLength: 3, pattern: '^[a-z]+$' } },
      required: { schema: { type: 'string' } },
    });
  });

  it('rejects values that are not JSON, naming the param', () => {
    const where = { dagId: 'd', taskId: 't' };
    expect(() => serializeParams({ big: 10n }, where)).toThrow("task 't' in DAG 'd': param 'big' is not JSON-safe");
    expect(() => serializeParams({ u: undefined })).toThrow("param 'u' is not JSON-safe: value is undefined");
    expect(() => serializeParams({ inf: new Param(Infinity) })).toThrow("param 'inf' is not JSON-safe: default is Infinity");
    expect(() => serializeParams({ m: new Map() })).toThrow("param 'm' is not JSON-safe: value is a Map");
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => serializeParams({ loop }, { dagId: 'd' })).toThrow("DAG 'd': param 'loop' is not JSON-safe: value.self refers back to itself");
    expect(() => serializeParams({ e: new Param('a', { enum: [() => 1] }) })).toThrow(DagDefinitionError);
  });
});

describe('example DAGs', () => {
  const examples = [
    ['example_etl', () => import('../../dags/example_etl.ts'), ['extract', 'clean_orders', 'clean_customers', 'join', 'load']],
    ['example_ml_pipeline', () => import('../../dags/example_ml_pipeline.ts'), ['load_data', 'preprocess', 'train', 'evaluate']],
    ['example_params', () => import('../../dags/example_params.ts'), ['start', 'greet', 'shout']],
    ['example_dynamic_mapping', () => import('../../dags/example_dynamic_mapping.ts'), ['list_documents', 'chunk', 'gather_chunks', 'embed', 'build_index']],
    [
      'example_mapped_task_groups',
      () => import('../../dags/example_mapped_task_groups.ts'),
      ['regions', 'per_region.fetch', 'per_region.validate.check_rows', 'per_region.validate.dedupe', 'per_region.summarize', 'report'],
    ],
    [
      'example_mapped_operators',
      () => import('../../dags/example_mapped_operators.ts'),
      ['list_files', 'late_files', 'checksum', 'describe', 'label', 'manifest'],
    ],
  ] as const;

  for (const [dagId, load, taskIds] of examples) {
    it(`dags/${dagId}.ts exports a DAG that serializes`, async () => {
      const mod = (await load()) as { default: unknown };
      expect(isDag(mod.default)).toBe(true);
      const dag = mod.default as DAG;
      const s = serializeDag(dag);
      expect(s.dagId).toBe(dagId);
      expect(s.fileloc).toBe(fileURLToPath(new URL(`../../dags/${dagId}.ts`, import.meta.url)));
      expect(s.line).toBeGreaterThan(0);
      expect(s.tags).toContain('example');
      expect(s.tasks.map((t) => t.taskId)).toEqual(taskIds);
      expect(dagHash(s)).toMatch(/^[0-9a-f]{64}$/);
    });
  }

  it('example_etl fans out and back in', async () => {
    const dag = ((await import('../../dags/example_etl.ts')) as { default: DAG }).default;
    expect([...dag.getTask('extract').downstreamTaskIds].sort()).toEqual(['clean_customers', 'clean_orders']);
    expect([...dag.getTask('join').upstreamTaskIds].sort()).toEqual(['clean_customers', 'clean_orders']);
    expect(dag.getTask('clean_orders').retries).toBe(2);
    expect(dag.getTask('load').retries).toBe(0);
  });
});
