import { describe, expect, it } from 'vitest';
import * as errors from '../../core/errors.ts';
import { toProblem } from '../../webserver/api/problems.ts';

/**
 * The HTTP status of every domain error, decided on purpose. A new class in
 * core/errors.ts fails here until it declares its own `status` and is added to
 * this table: 4xx only when the request is at fault.
 */
const EXPECTED: Record<string, number> = {
  AirflowError: 500,
  ConfigError: 500,
  DagDefinitionError: 400,
  DagCycleError: 400,
  DagImportError: 500,
  IllegalStateTransitionError: 409,
  SchemaVersionMismatchError: 500,
  AirflowSkipException: 500,
  AirflowFailException: 500,
  AirflowSensorTimeout: 500,
  AirflowRescheduleException: 500,
  TaskDeferred: 500,
  TaskDeferralError: 500,
  TaskDeferralTimeout: 500,
  UnknownTriggerError: 500,
  DagNotFoundError: 404,
  DagRunAlreadyExistsError: 409,
  TaskNotLoadableError: 500,
  TaskTimeoutError: 500,
  TaskDidNotStopError: 500,
  DagHasRunningTasksError: 409,
  DagRunNotFoundError: 404,
  DagRunHasRunningTasksError: 409,
  UserAlreadyExistsError: 409,
  UndecryptableSecretError: 500,
  XComTooLargeError: 400,
  InvalidOrderByError: 400,
  DefaultPoolProtectedError: 400,
  InvalidFernetToken: 500,
  InvalidFernetKey: 500,
  FernetKeyError: 500,
  SignalToSchedulerRefusedError: 500,
  TemplateRenderError: 500,
  InvalidConfError: 400,
};

const classes = Object.entries(errors as Record<string, unknown>).filter(([, value]) => typeof value === 'function' && value.prototype instanceof Error);

/** An instance without running the constructor (each takes different context), as the webserver would receive it. */
function instanceOf(cls: typeof Error): Error {
  return Object.assign(Object.create(cls.prototype) as Error, { message: `a ${cls.name}` });
}

describe('core/errors.ts', () => {
  it('exports exactly the classes of the status table', () => {
    expect(classes.map(([name]) => name).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s declares its own status %i', (name, status) => {
    const cls = (errors as Record<string, unknown>)[name] as { status?: number };
    // Own, not inherited: a subclass must decide, not silently take its parent's.
    expect(Object.hasOwn(cls, 'status')).toBe(true);
    expect(cls.status).toBe(status);
  });

  it.each(Object.entries(EXPECTED))('the webserver answers %s with %i', (name, status) => {
    const cls = (errors as Record<string, unknown>)[name] as typeof Error;
    const problem = toProblem(instanceOf(cls));
    expect(problem.status).toBe(status);
    // A domain message is written for a person: shown for 4xx and for our own 5xx classes alike.
    if (instanceOf(cls) instanceof errors.AirflowError) expect(problem.detail).toBe(`a ${name}`);
  });

  it('a plain Error is a 500 that does not show its message', () => {
    const problem = toProblem(new TypeError("Cannot read properties of undefined (reading 'map')"));
    expect(problem.status).toBe(500);
    expect(problem.detail).not.toContain('Cannot read');
  });
});
