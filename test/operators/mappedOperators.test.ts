import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { dagHash, serializeDag } from '../../core/serialize.ts';
import { importDagFile } from '../../scheduler/dagProcessing/importDagFile.ts';
import { BashOperator } from '../../operators/bashOperator.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';
import { FunctionOperator } from '../../operators/functionOperator.ts';
import { task } from '../../operators/taskflow.ts';
import { definitionError } from '../helpers/definitionError.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';

function mappedDag() {
  const dag = new DAG({ dagId: 'mapped_classic' });
  const envs = task({ dag }, function envs() {
    return [{ A: '1' }, { A: '2' }];
  });
  const opts = task({ dag }, function opts() {
    return [{ bashCommand: 'echo a' }];
  });
  const greet = BashOperator.partial({ dag, taskId: 'greet', appendEnv: true, retries: 2 }).expand({ bashCommand: ['echo 1', 'echo 2'], env: envs() });
  const kw = BashOperator.partial({ dag, taskId: 'kw' }).expandKwargs(opts());
  greet.then(kw);
  return dag;
}

describe('BashOperator.partial().expand() / .expandKwargs(): what the DAG file writes', () => {
  it('serializes the product as an ordered list of fields, and kwargs; keeps the operator name, partial options and edges', () => {
    const s = serializeDag(mappedDag());
    const byId = new Map(s.tasks.map((t) => [t.taskId, t]));
    const greet = byId.get('greet')!;
    expect(greet.expandInput).toEqual({
      product: [
        { field: 'bashCommand', source: { literal: ['echo 1', 'echo 2'] } },
        { field: 'env', source: { xcomArg: { taskId: 'envs', key: 'return_value' } } },
      ],
    });
    expect(greet).toMatchObject({
      operator: 'BashOperator',
      retries: 2,
      upstreamTaskIds: ['envs'],
      downstreamTaskIds: ['kw'],
      fields: { partialKwargs: { appendEnv: true } },
    });
    expect(byId.get('kw')?.expandInput).toEqual({ kwargs: { xcomArg: { taskId: 'opts', key: 'return_value' } } });
    expect(byId.get('kw')?.upstreamTaskIds).toEqual(['greet', 'opts']);
    expect(dagHash(s)).toBe(dagHash(serializeDag(mappedDag())));
    // Unmapped tasks serialize without expandInput, as before mapping existed (ADR 0015).
    expect(Object.keys(byId.get('envs')!)).not.toContain('expandInput');
  });

  it('refuses options that cannot be mapped, options both fixed and mapped, and inputs that are not lists; nothing is added to the DAG', () => {
    const dag = new DAG({ dagId: 'bad_partial' });
    const partial = BashOperator.partial({ dag, taskId: 'p', bashCommand: 'echo' });
    definitionError(() => partial.expand({ taskId: ['a'] } as never), "task 'p' in DAG 'bad_partial'", "option 'taskId' cannot be mapped");
    definitionError(
      () => partial.expand({ retries: [1, 2] } as never),
      "option 'retries' cannot be mapped: it is the same for every instance of a task; give it to partial()",
    );
    definitionError(() => partial.expand({ bashCommand: ['a'] } as never), "option 'bashCommand' is given to partial() and mapped");
    definitionError(() => partial.expand({ env: { A: 'b' } } as never), "expand() option 'env' takes a list or a task output, got object");
    definitionError(() => partial.expand({ env: [() => 1] } as never), "expand() option 'env' list elements must be JSON values");
    definitionError(() => partial.expand({} as never), 'expand() takes an object of the options to map');
    definitionError(() => partial.expandKwargs([{ env: {} }, 'x'] as never), 'expandKwargs() takes a list of option objects; element 1 is "x"');
    definitionError(() => partial.expandKwargs([{ pool: 'p' }] as never), "expandKwargs() element 0: option 'pool' cannot be mapped");
    definitionError(() => partial.expandKwargs('x' as never), 'expandKwargs() takes a list or a task output, got string');
    const other = new DAG({ dagId: 'other' });
    const foreign = new EmptyOperator({ dag: other, taskId: 'foreign' });
    definitionError(() => partial.expand({ env: foreign.output as never }), "it maps over task 'foreign' of DAG 'other'");
    expect(dag.taskIds).toEqual([]);
  });

  it('an error in partial()/expand() names the DAG file and line when the file is imported', async () => {
    const dags = tempDagsFolder();
    const file = writeDag(
      dags,
      'bad_mapping.ts',
      [
        "import { BashOperator, DAG } from 'airflow-ts';",
        "const dag = new DAG({ dagId: 'bad_mapping' });",
        '',
        "BashOperator.partial({ dag, taskId: 'run' }).expand({ bashCommand: ['echo'], retries: [1, 2] } as never);",
        'export default dag;',
        '',
      ].join('\n'),
    );
    const parsed = await importDagFile(file);
    expect(parsed.problem?.message).toContain("option 'retries' cannot be mapped");
    expect(parsed.problem?.message).toContain(`${file}:4`);
    expect(parsed.problem?.line).toBe(4);
  });

  it('checks option names and element types at compile time (tsc runs over this file)', () => {
    const dag = new DAG({ dagId: 'typed_partial' });
    const envs = task({ dag }, function envs() {
      return [{ A: '1' }];
    });
    const numbers = task({ dag }, function numbers() {
      return [1, 2];
    });
    BashOperator.partial({ dag, taskId: 'ok', appendEnv: true }).expand({ bashCommand: ['echo 1'], env: envs() });
    BashOperator.partial({ dag, taskId: 'ok_map', bashCommand: 'echo $N' }).expand({ env: numbers().map((n) => ({ N: String(n) })) });
    BashOperator.partial({ dag, taskId: 'ok_kw' }).expandKwargs([{ bashCommand: 'a' }, { bashCommand: 'b', env: { A: 'x' } }]);
    FunctionOperator.partial({ dag, taskId: 'ok_fn', fn: (_ctx, kw) => kw }).expand({ opKwargs: [{ a: 1 }, { a: 2 }] });
    // Type checks only: some of these would also fail at run time.
    const neverCalled = () => {
      // @ts-expect-error a mistyped option name
      BashOperator.partial({ dag, taskId: 'typo' }).expand({ bashComand: ['echo 1'] });
      // @ts-expect-error elements of the wrong type
      BashOperator.partial({ dag, taskId: 'wrong_type' }).expand({ bashCommand: [1, 2] });
      // @ts-expect-error a task output of numbers does not feed a string option
      BashOperator.partial({ dag, taskId: 'wrong_output' }).expand({ bashCommand: numbers() });
      // @ts-expect-error bashCommand is required: neither partial() nor expand() gives it
      BashOperator.partial({ dag, taskId: 'missing' }).expand({ env: [{ A: 'b' }] });
      // @ts-expect-error retries is the same for every instance: not mappable
      BashOperator.partial({ dag, taskId: 'unmappable' }).expand({ bashCommand: ['x'], retries: [1] });
      // @ts-expect-error an option given to partial() cannot be mapped too
      BashOperator.partial({ dag, taskId: 'twice', bashCommand: 'x' }).expand({ bashCommand: ['y'] });
      // @ts-expect-error a mistyped option in partial()
      BashOperator.partial({ dag, taskId: 'typo_partial', bashComand: 'x' });
      // @ts-expect-error a mistyped option in an expandKwargs() element
      BashOperator.partial({ dag, taskId: 'typo_kw' }).expandKwargs([{ bashCommand: 'a', envv: {} }]);
      // @ts-expect-error an expandKwargs() element without the required bashCommand
      BashOperator.partial({ dag, taskId: 'missing_kw' }).expandKwargs([{ env: {} }]);
    };
    void neverCalled;
    expect(dag.taskIds).toContain('ok_kw');
  });
});
