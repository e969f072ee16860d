/**
 * Every error class the system throws on purpose. Each says when it is thrown
 * and carries the context a person needs to fix the cause. Callers branch on
 * the class (`instanceof`), never on message text.
 */

/** Base of all airflow-ts errors, so edges can tell ours from unexpected ones. */
export class AirflowError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Thrown when a config value (file, env var or flag) is not allowed. */
export class ConfigError extends AirflowError {
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
  constructor(
    dagId: string,
    readonly cycle: string[],
  ) {
    super(`Cycle detected in DAG '${dagId}': ${cycle.join(' -> ')}`, dagId);
  }
}

/** Recorded (not thrown across processes) when a DAG file cannot be imported; names file and line. */
export class DagImportError extends AirflowError {
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
  constructor(
    readonly databaseVersion: string,
    readonly codeVersion: string,
  ) {
    super(`The database schema is at migration ${databaseVersion}, newer than this airflow-ts (${codeVersion}) knows; upgrade airflow-ts`);
  }
}

/** Raised by task code to end the try as skipped (Airflow's AirflowSkipException). */
export class AirflowSkipException extends AirflowError {}

/** Raised by task code to fail the try without retrying (Airflow's AirflowFailException). */
export class AirflowFailException extends AirflowError {}

/** Thrown when a DAG id is not in the metadata database (or not active). */
export class DagNotFoundError extends AirflowError {
  constructor(readonly dagId: string) {
    super(`DAG '${dagId}' not found; run \`airflow dags list\` to see the DAGs, or \`airflow dags list-import-errors\` if its file failed to load`);
  }
}

/** Thrown when a dag run with the same run id or logical date already exists for the DAG. */
export class DagRunAlreadyExistsError extends AirflowError {
  constructor(
    readonly dagId: string,
    readonly runId: string,
    readonly logicalDate: Date,
  ) {
    super(`DAG '${dagId}' already has a run with run id '${runId}' or logical date ${logicalDate.toISOString()}`);
  }
}
