/**
 * Every error class the system throws on purpose. Each says when it is thrown
 * and carries the context a person needs to fix the cause. Callers branch on
 * the class (`instanceof`), never on message text.
 */

import type { BaseTrigger, Json } from './trigger.ts';

/** Base of all airflow-ts errors, so edges can tell ours from unexpected ones. */
export class AirflowError extends Error {
  /**
   * The HTTP status the REST API and the UI answer when this reaches them. Every class sets its
   * own on purpose (test/core/errors.test.ts checks): 4xx only when the request is at fault.
   * The base, thrown as is, is 500, so an error nobody classified is never blamed on the client.
   */
  static readonly status: number = 500;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Thrown when a config value (file, env var or flag) is not allowed. */
export class ConfigError extends AirflowError {
  static override readonly status = 500;
  constructor(
    readonly key: string,
    readonly value: unknown,
    readonly allowed: string,
    readonly source?: string,
  ) {
    super(`Invalid config ${key}=${JSON.stringify(value)}${source ? ` (from ${source})` : ''}: expected ${allowed}`);
  }
}

/**
 * Thrown when a DAG definition breaks a rule (bad id, cycle, duplicate task,
 * unknown trigger rule, bad schedule). The DAG file parser adds the file and
 * line where the offending call was made.
 */
export class DagDefinitionError extends AirflowError {
  static override readonly status = 400;
  constructor(
    message: string,
    readonly dagId?: string,
    readonly taskId?: string,
  ) {
    super(message);
  }
}

/** Thrown when a DAG's edges form a cycle; `cycle` lists the task ids, first id repeated at the end. */
export class DagCycleError extends DagDefinitionError {
  static override readonly status = 400;
  constructor(
    dagId: string,
    readonly cycle: string[],
  ) {
    super(`Cycle detected in DAG '${dagId}': ${cycle.join(' -> ')}`, dagId);
  }
}

/** Recorded (not thrown across processes) when a DAG file cannot be imported; names file and line. */
export class DagImportError extends AirflowError {
  static override readonly status = 500;
  constructor(
    message: string,
    readonly file: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

/** Thrown when a task-instance or dag-run state change is not in the allowed table. */
export class IllegalStateTransitionError extends AirflowError {
  static override readonly status = 409;
  constructor(
    readonly entity: string,
    readonly from: string | null,
    readonly to: string,
  ) {
    super(`Illegal ${entity} state transition ${from ?? 'none'} -> ${to}`);
  }
}

/** Thrown by the database layer when the schema is newer than this code understands. */
export class SchemaVersionMismatchError extends AirflowError {
  static override readonly status = 500;
  constructor(
    readonly databaseVersion: string,
    readonly codeVersion: string,
  ) {
    super(`The database schema is at migration ${databaseVersion}, newer than this airflow-ts (${codeVersion}) knows; upgrade airflow-ts`);
  }
}

/** Raised by task code to end the try as skipped (Airflow's AirflowSkipException). */
export class AirflowSkipException extends AirflowError {
  static override readonly status = 500;
}

/** Raised by task code to fail the try without retrying (Airflow's AirflowFailException). */
export class AirflowFailException extends AirflowError {
  static override readonly status = 500;
}

/** Raised by a sensor whose timeout has passed (Airflow's AirflowSensorTimeout): the try fails without retrying. */
export class AirflowSensorTimeout extends AirflowFailException {
  static override readonly status = 500;
}

/**
 * Raised by a reschedule-mode sensor whose condition is not met yet (Airflow's AirflowRescheduleException):
 * the try ends as up_for_reschedule, freeing its worker slot, and is scheduled again at `rescheduleDate`
 * with the same try number.
 */
export class AirflowRescheduleException extends AirflowError {
  static override readonly status = 500;
  constructor(readonly rescheduleDate: Date) {
    super(`Rescheduled to ${rescheduleDate.toISOString()}`);
  }
}

/**
 * Raised by `this.defer()` (Airflow's TaskDeferred): the try ends as deferred, its worker slot is freed and
 * the trigger waits in the triggerer; the trigger's event resumes the task in `method` with the same try.
 */
export class TaskDeferred extends AirflowError {
  static override readonly status = 500;
  constructor(
    readonly trigger: BaseTrigger,
    readonly method: string,
    readonly kwargs: Record<string, Json>,
    readonly timeoutMs: number | null,
  ) {
    super(`Deferred to ${trigger.classpath}; resumes in ${method}()`);
  }
}

/** A deferred task whose trigger failed (Airflow's TaskDeferralError): the trigger's error, raised in the resumed try. */
export class TaskDeferralError extends AirflowError {
  static override readonly status = 500;
}

/** A deferred task whose trigger did not fire within the defer timeout (Airflow's TaskDeferralTimeout). */
export class TaskDeferralTimeout extends TaskDeferralError {
  static override readonly status = 500;
}

/** A trigger row names a classpath no registered trigger class has (a trigger removed, or a triggerer of another version). */
export class UnknownTriggerError extends AirflowError {
  static override readonly status = 500;
  constructor(classpath: string, known: string[]) {
    super(`no trigger is registered as ${classpath} (known: ${known.sort().join(', ') || 'none'})`);
  }
}

/** Thrown when a DAG id is not in the metadata database (or not active). */
export class DagNotFoundError extends AirflowError {
  static override readonly status = 404;
  constructor(
    readonly dagId: string,
    message = `DAG '${dagId}' not found; run \`airflow dags list\` to see the DAGs, or \`airflow dags list-import-errors\` if its file failed to load`,
  ) {
    super(message);
  }
}

/** Thrown when a dag run with the same run id or logical date already exists for the DAG. */
export class DagRunAlreadyExistsError extends AirflowError {
  static override readonly status = 409;
  constructor(
    readonly dagId: string,
    readonly runId: string,
    readonly logicalDate: Date,
  ) {
    super(`DAG '${dagId}' already has a run with run id '${runId}' or logical date ${logicalDate.toISOString()}`);
  }
}

/** Thrown when the runner cannot find the DAG or task in its file (renamed, deleted, broken since parsing). */
export class TaskNotLoadableError extends AirflowError {
  static override readonly status = 500;
}

/** Thrown when a try exceeds the task's executionTimeout. */
export class TaskTimeoutError extends AirflowError {
  static override readonly status = 500;
  constructor(readonly timeoutMs: number) {
    super(`Task timed out after ${timeoutMs / 1000} s (executionTimeout)`);
  }
}

/**
 * Thrown when a try exceeded its executionTimeout and its body did not stop
 * within `stopGraceMs` of being told to: it still runs in this process, so the
 * runner must end the process rather than record the try (a retry would overlap it).
 */
export class TaskDidNotStopError extends AirflowError {
  static override readonly status = 500;
  constructor(
    readonly timeoutMs: number,
    readonly stopGraceMs: number,
  ) {
    super(
      `Task timed out after ${timeoutMs / 1000} s (executionTimeout) and did not stop within ${stopGraceMs / 1000} s of being cancelled; ending its process`,
    );
  }
}

/** Thrown when a DAG's metadata cannot be deleted because some of its task instances are running. */
export class DagHasRunningTasksError extends AirflowError {
  static override readonly status = 409;
  constructor(readonly dagId: string) {
    super(`DAG '${dagId}' has running task instances; wait for them or mark them first`);
  }
}

/** Thrown when a DAG has no dag run with the given run id. */
export class DagRunNotFoundError extends AirflowError {
  static override readonly status = 404;
  constructor(
    readonly dagId: string,
    readonly runId: string,
  ) {
    super(`DAG '${dagId}' has no run '${runId}'`);
  }
}

/** Thrown when a dag run cannot be deleted because some of its task instances are running. */
export class DagRunHasRunningTasksError extends AirflowError {
  static override readonly status = 409;
  constructor(
    readonly dagId: string,
    readonly runId: string,
  ) {
    super(`Run '${runId}' has running task instances; mark it failed first or wait for them`);
  }
}

/** Thrown when a user with the same username already exists. */
export class UserAlreadyExistsError extends AirflowError {
  static override readonly status = 409;
}

/** Thrown when a stored secret does not decrypt with any key of core.fernet_key: a configuration error, reported, never a crash. */
export class UndecryptableSecretError extends AirflowError {
  static override readonly status = 500;
  constructor(readonly what: string) {
    super(
      `Cannot decrypt ${what}: it was encrypted with a Fernet key that core.fernet_key (AIRFLOW__CORE__FERNET_KEY) does not hold. ` +
        'Add the old key after the new one (comma-separated), or set the value again.',
    );
  }
}

/** Thrown when a task pushes an XCom bigger than core.xcomMaxSize. */
export class XComTooLargeError extends AirflowError {
  static override readonly status = 400;
  constructor(
    readonly taskId: string,
    readonly key: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      `Task '${taskId}' pushed XCom '${key}' of ${size} bytes, over the limit of ${limit} bytes (core.xcomMaxSize); keep XComs small and pass large data by reference (a path or URL)`,
    );
  }
}

/** Raised for an order_by naming no sortable field; the API answers 400 (AirflowError). */
export class InvalidOrderByError extends AirflowError {
  static override readonly status = 400;
}

/** Raised when a change would delete or rename default_pool (Airflow forbids both); the API answers 400. */
export class DefaultPoolProtectedError extends AirflowError {
  static override readonly status = 400;
}

/** Thrown when a token is malformed, was made with another key, or (with a TTL) has expired. Never says which: that would help an attacker. */
export class InvalidFernetToken extends AirflowError {
  static override readonly status = 500;
  constructor() {
    super('Invalid Fernet token: it is malformed or was encrypted with another key');
  }
}

/** Thrown for a key that is not 32 bytes of base64url. The message never contains the key. */
export class InvalidFernetKey extends AirflowError {
  static override readonly status = 500;
}

/** Thrown when core.fernet_key (or the generated key file) holds something that is not a Fernet key; never contains the key. */
export class FernetKeyError extends AirflowError {
  static override readonly status = 500;
}

/** Thrown in user code (a DAG file, a task) that tries to signal the scheduler: an import error or a failed try. */
export class SignalToSchedulerRefusedError extends Error {
  static readonly status = 500;
  constructor(readonly pid: number) {
    super(`DAG files may not signal the scheduler: process.kill(${pid}) was refused (DAG files and tasks run in child processes of the scheduler)`);
    this.name = 'SignalToSchedulerRefusedError';
  }
}

/** Thrown when a template field does not compile or fails while rendering; names the task and field. */
export class TemplateRenderError extends AirflowError {
  static override readonly status = 500;
  constructor(
    readonly dagId: string,
    readonly taskId: string,
    readonly field: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`task '${taskId}' in DAG '${dagId}': cannot render template field '${field}': ${reason}`, options);
  }
}

/** Thrown when a run's conf does not satisfy the DAG's params; lists every problem. */
export class InvalidConfError extends AirflowError {
  static override readonly status = 400;
  constructor(
    readonly dagId: string,
    readonly problems: string[],
  ) {
    super(`Invalid conf for DAG '${dagId}': ${problems.join('; ')}`);
  }
}
