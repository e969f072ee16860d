import { expect } from 'vitest';
import { DagDefinitionError } from '../../core/errors.ts';

/** Runs `fn`, expects a DagDefinitionError whose message contains every fragment, and returns it. */
export function definitionError(fn: () => unknown, ...fragments: string[]): DagDefinitionError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a DagDefinitionError').toBeInstanceOf(DagDefinitionError);
  const err = caught as DagDefinitionError;
  for (const fragment of fragments) expect(err.message).toContain(fragment);
  return err;
}
