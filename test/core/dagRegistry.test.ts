import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { takeCreatedDags } from '../../core/dagRegistry.ts';
import { DagDefinitionError } from '../../core/errors.ts';

describe('DAG registry', () => {
  it('takeCreatedDags returns the DAGs built since the last call, once', () => {
    takeCreatedDags();
    const one = new DAG({ dagId: 'one' });
    expect(() => new DAG({ dagId: 'bad id' })).toThrow(DagDefinitionError);
    const two = new DAG({ dagId: 'two' });
    expect(takeCreatedDags()).toEqual([one, two]);
    expect(takeCreatedDags()).toEqual([]);
  });

  it('keeps the list on globalThis so every copy of the module shares it', () => {
    takeCreatedDags();
    const dag = new DAG({ dagId: 'global' });
    expect((globalThis as Record<symbol, unknown>)[Symbol.for('airflow-ts.createdDags')]).toEqual([dag]);
    takeCreatedDags();
  });
});
