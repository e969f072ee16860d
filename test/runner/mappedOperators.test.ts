import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.ts';
import { runDagFile } from '../helpers/mappedDag.ts';

const db = await createTestDatabase();

describe('classic operators mapped with partial().expand() / expandKwargs() (real parser, in-process executor, real database)', () => {
  it('expand over several options runs their cartesian product, the first option varying slowest, each templated as written', async () => {
    const { run, states, xcoms } = await runDagFile(
      db,
      'bash_product',
      ['BashOperator', 'task'],
      [
        "const envs = task({ dag }, function envs() { return [{ WHO: 'ann' }, { WHO: 'bob' }, { WHO: 'cy' }]; });",
        "const greet = BashOperator.partial({ dag, taskId: 'greet', appendEnv: true }).expand({",
        '  bashCommand: [\'echo "hi $WHO {{ ti.map_index }}"\', \'echo "bye $WHO {{ ti.map_index }}"\'],',
        '  env: envs(),',
        '});',
        'const collect = task({ dag }, function collect(lines: string[]) { return lines; });',
        'collect(greet.output);',
      ].join('\n'),
    );
    expect(run.state).toBe('success');
    expect(states('greet')).toEqual([0, 1, 2, 3, 4, 5].map((i) => [i, 'success']));
    // Airflow's order: bashCommand (first) varies slowest, env fastest; the map index is rendered into the mapped command.
    expect(await xcoms('greet')).toEqual([
      [0, 'hi ann 0'],
      [1, 'hi bob 1'],
      [2, 'hi cy 2'],
      [3, 'bye ann 3'],
      [4, 'bye bob 4'],
      [5, 'bye cy 5'],
    ]);
    expect(await xcoms('collect')).toEqual([[-1, ['hi ann 0', 'hi bob 1', 'hi cy 2', 'bye ann 3', 'bye bob 4', 'bye cy 5']]]);
  });

  it('expandKwargs maps whole option objects (literal or an upstream output); partial() options apply to every instance', async () => {
    const { run, states, xcoms } = await runDagFile(
      db,
      'bash_kwargs',
      ['BashOperator', 'task'],
      [
        "const opts = task({ dag }, function opts() { return [{ bashCommand: 'echo $X-$Y' , env: { X: 'a', Y: '1' } }, { bashCommand: 'echo only-{{ params.p }}' }]; });",
        "BashOperator.partial({ dag, taskId: 'from_output', params: { p: 'P' } }).expandKwargs(opts());",
        "BashOperator.partial({ dag, taskId: 'literal', env: { Z: 'z' } }).expandKwargs([{ bashCommand: 'echo $Z-one' }, { bashCommand: 'echo $Z-two' }, { bashCommand: 'exit 99' }]);",
      ].join('\n'),
    );
    expect(run.state).toBe('success');
    expect(await xcoms('from_output')).toEqual([
      [0, 'a-1'],
      [1, 'only-P'],
    ]);
    expect(await xcoms('literal')).toEqual([
      [0, 'z-one'],
      [1, 'z-two'],
    ]);
    expect(states('literal')).toEqual([
      [0, 'success'],
      [1, 'success'],
      [2, 'skipped'], // exit 99: BashOperator's skip code, per instance
    ]);
  });

  it("an element that cannot build the operator fails only its instance, with the operator's own check in the log; one that sets an unmappable option fails too", async () => {
    const { run, states, xcoms, log } = await runDagFile(
      db,
      'bash_bad_element',
      ['BashOperator', 'task'],
      [
        "const cmds = task({ dag }, function cmds(): unknown[] { return ['echo ok', 5, '']; });",
        "BashOperator.partial({ dag, taskId: 'run_cmd' }).expand({ bashCommand: cmds() as never });",
        "const kw = task({ dag }, function kw(): unknown[] { return [{ bashCommand: 'echo fine' }, { bashCommand: 'echo x', retries: 3 }, 'nope']; });",
        "BashOperator.partial({ dag, taskId: 'run_kw' }).expandKwargs(kw() as never);",
      ].join('\n'),
    );
    expect(run.state).toBe('failed');
    expect(states('run_cmd')).toEqual([
      [0, 'success'],
      [1, 'failed'],
      [2, 'failed'],
    ]);
    expect(await xcoms('run_cmd')).toEqual([[0, 'ok']]);
    expect(states('run_kw')).toEqual([
      [0, 'success'],
      [1, 'failed'],
      [2, 'failed'],
    ]);
    expect(log('run_cmd', 1)).toContain(
      "mapped task 'run_cmd' (map index 1): its values do not make a BashOperator: task 'run_cmd' in DAG 'bash_bad_element': bashCommand must be a non-empty string, got 5",
    );
    expect(log('run_cmd', 2)).toContain('bashCommand must be a non-empty string, got ""');
    expect(log('run_kw', 1)).toContain("mapped task 'run_kw' (map index 1): expandKwargs() cannot set option 'retries'");
    expect(log('run_kw', 2)).toContain('expandKwargs() needs an option object at map index 2, got "nope"');
  });

  it('zero-length and too-long products: skipped, or failed with the reason in the note', async () => {
    const { states, instances } = await runDagFile(
      db,
      'bash_product_limits',
      ['BashOperator', 'task'],
      [
        'const none = task({ dag }, function none(): Record<string, string>[] { return []; });',
        "BashOperator.partial({ dag, taskId: 'empty' }).expand({ bashCommand: ['echo a', 'echo b'], env: none() });",
        "BashOperator.partial({ dag, taskId: 'big' }).expand({ bashCommand: ['echo a', 'echo b'], cwd: ['/tmp', '/', '/var'] });",
      ].join('\n'),
      { AIRFLOW__CORE__MAX_MAP_LENGTH: '5' },
    );
    expect(instances('empty').map((ti) => [ti.map_index, ti.state, ti.note])).toEqual([
      [-1, 'skipped', "mapped task 'empty' skipped: field 'env' (the output of task 'none') is empty"],
    ]);
    expect(instances('big').map((ti) => [ti.map_index, ti.state, ti.note])).toEqual([
      [-1, 'failed', "cannot expand mapped task 'big': the product of 'bashCommand' × 'cwd' has 6 elements, over core.maxMapLength (5)"],
    ]);
    expect(states('none')).toEqual([[-1, 'success']]);
  });

  it('any operator maps: FunctionOperator over opKwargs (templated per instance), its function fixed in partial()', async () => {
    const { run, xcoms } = await runDagFile(
      db,
      'function_mapped',
      ['FunctionOperator'],
      [
        "FunctionOperator.partial({ dag, taskId: 'greet', fn: (ctx, kw) => `${String(kw.greeting)} #${ctx.ti.mapIndex}` })",
        "  .expand({ opKwargs: [{ greeting: 'hi {{ ds_nodash }}' }, { greeting: 'yo' }] });",
      ].join('\n'),
    );
    expect(run.state).toBe('success');
    const ds = run.logical_date.toISOString().slice(0, 10).replaceAll('-', '');
    expect(await xcoms('greet')).toEqual([
      [0, `hi ${ds} #0`],
      [1, 'yo #1'],
    ]);
    const serialized = (await db.knex('serialized_dag').where('dag_id', 'function_mapped').first()).data;
    expect(serialized.tasks[0]).toMatchObject({ operator: 'FunctionOperator', fields: { partialKwargs: { fn: '<function fn>' } } });
  });
});
