/**
 * Every process a try starts carries its try's mark in the environment, so a
 * try's processes can be found and killed even after the process that started
 * them died (kill -9, out of memory) and even when they left its process group.
 * The runner sets the mark on itself for the length of a try, so children
 * inherit it; BashOperator passes it explicitly because its `env` may replace
 * the worker's. See ADR 0007.
 * Here in core because BashOperator (imported by DAG files) needs it and must not import the runner;
 * runner/tryProcesses.ts finds and kills marked processes.
 */
export const TRY_MARK_ENV = 'AIRFLOW_TS_TRY';
