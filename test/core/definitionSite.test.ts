import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { BashOperator, type BashOperatorOptions } from '../../operators/bashOperator.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';

const thisFile = fileURLToPath(import.meta.url);

/** The 1-based line of this file holding `marker`. */
function lineOf(marker: string): number {
  return (
    readFileSync(thisFile, 'utf8')
      .split('\n')
      .findIndex((l) => l.includes(marker)) + 1
  );
}

describe('definedAt', () => {
  it('points the DAG and its tasks at the lines of this file that created them', () => {
    const dag = new DAG({ dagId: 'located' }); // marker:dag-line
    const task = new EmptyOperator({ dag, taskId: 't' }); // marker:task-line
    expect(dag.definedAt).toEqual({ file: thisFile, line: lineOf('marker:dag-line') });
    expect(task.definedAt).toEqual({ file: thisFile, line: lineOf('marker:task-line') });
    expect(lineOf('marker:dag-line')).toBeGreaterThan(1);
  });

  it('skips the constructors of user subclasses, pointing at the line that used them', () => {
    class EchoOperator extends BashOperator {
      constructor(options: Omit<BashOperatorOptions, 'bashCommand'> & { text: string }) {
        super({ ...options, bashCommand: `echo ${options.text}` }); // marker:subclass-super
      }
    }
    const dag = new DAG({ dagId: 'subclassed' });
    const echo = new EchoOperator({ dag, taskId: 'echo', text: 'hi' }); // marker:subclass-use
    expect(echo.definedAt).toEqual({ file: thisFile, line: lineOf('marker:subclass-use') });
    expect(echo.operatorName).toBe('EchoOperator');
  });
});
