/**
 * The public API of airflow-ts: what DAG files import from 'airflow-ts'.
 */
export { DAG } from './core/dag.ts';
export type { DagOptions, TaskDefaults } from './core/dagOptions.ts';
export { BaseOperator } from './core/baseOperator.ts';
export type { BaseOperatorOptions, TaskCallback, TaskLike } from './core/baseOperator.ts';
export { chain, crossDownstream } from './core/chain.ts';
export { TaskGroup } from './core/taskGroup.ts';
export type { TaskGroupOptions } from './core/taskGroup.ts';
export { Param } from './core/param.ts';
export type { ParamOptions } from './core/param.ts';
export {
  AirflowSkipException,
  AirflowFailException,
  AirflowSensorTimeout,
  AirflowRescheduleException,
  TaskDeferred,
  TaskDeferralError,
  TaskDeferralTimeout,
} from './core/errors.ts';
export { BaseTrigger, TriggerEvent, registerTrigger } from './core/trigger.ts';
export type { Json, TriggerContext } from './core/trigger.ts';
export { DateTimeTrigger, TimeDeltaTrigger } from './operators/triggers/temporalTrigger.ts';
export { FileTrigger } from './operators/triggers/fileTrigger.ts';
export type { Duration } from './core/duration.ts';
export type { TriggerRule } from './core/triggerRule.ts';
export { getCurrentContext } from './core/taskContext.ts';
export type { ConnectionInfo, DagRunContext, TaskContext, TaskInstanceHandle, TaskLogger, XComPullArgs } from './core/taskContext.ts';
export { task } from './operators/taskflow.ts';
export type { ArgOrXComArg, TaskFlowOptions, TaskFlowTask } from './operators/taskflow.ts';
export { taskGroup } from './operators/taskGroupDecorator.ts';
export type { TaskGroupDecoratorOptions, TaskGroupFunction, TaskGroupResult } from './operators/taskGroupDecorator.ts';
export type { PlainXComArg, XComArg } from './core/xcomArg.ts';
export { BashOperator } from './operators/bashOperator.ts';
export type { BashOperatorOptions } from './operators/bashOperator.ts';
export { FunctionOperator } from './operators/functionOperator.ts';
export type { FunctionOperatorOptions, TaskFunction } from './operators/functionOperator.ts';
export { EmptyOperator } from './operators/emptyOperator.ts';
export { BranchOperator } from './operators/branchOperator.ts';
export type { BranchFunction, BranchOperatorOptions } from './operators/branchOperator.ts';
export { ShortCircuitOperator } from './operators/shortCircuitOperator.ts';
export type { ConditionFunction, ShortCircuitOperatorOptions } from './operators/shortCircuitOperator.ts';
export type { TaskFlowOperator } from './operators/taskFlowOperator.ts';
export { BaseSensorOperator } from './operators/sensors/baseSensorOperator.ts';
export type { BaseSensorOperatorOptions, PokeResult, PokeReturnValue, SensorMode } from './operators/sensors/baseSensorOperator.ts';
export { FunctionSensor } from './operators/sensors/functionSensor.ts';
export type { FunctionSensorOptions, PokeFunction } from './operators/sensors/functionSensor.ts';
export { TimeDeltaSensor } from './operators/sensors/timeDeltaSensor.ts';
export type { TimeDeltaSensorOptions } from './operators/sensors/timeDeltaSensor.ts';
export { DateTimeSensor } from './operators/sensors/dateTimeSensor.ts';
export type { DateTimeSensorOptions } from './operators/sensors/dateTimeSensor.ts';
export { FileSensor } from './operators/sensors/fileSensor.ts';
export type { FileSensorOptions } from './operators/sensors/fileSensor.ts';
export { BashSensor } from './operators/sensors/bashSensor.ts';
export type { BashSensorOptions } from './operators/sensors/bashSensor.ts';
export { HttpOperator } from './operators/http/httpOperator.ts';
export type { HttpExtraOptions, HttpOperatorOptions, ResponseCheck, ResponseFilter } from './operators/http/httpOperator.ts';
export { HttpSensor } from './operators/http/httpSensor.ts';
export type { HttpSensorOptions } from './operators/http/httpSensor.ts';
export type { HttpResponse } from './operators/http/httpHook.ts';
export { SQLExecuteQueryOperator } from './operators/sql/sqlExecuteQueryOperator.ts';
export type { SQLExecuteQueryOperatorOptions } from './operators/sql/sqlExecuteQueryOperator.ts';
export { SqlSensor } from './operators/sql/sqlSensor.ts';
export type { SqlCriterion, SqlSensorOptions } from './operators/sql/sqlSensor.ts';
export { EmailOperator } from './operators/emailOperator.ts';
export type { EmailOperatorOptions } from './operators/emailOperator.ts';
export { defineConfig } from './config/defineConfig.ts';
export type { AirflowConfig } from './config/schema.ts';
export { TriggerDagRunOperator } from './operators/triggerDagRunOperator.ts';
export type { TriggerDagRunOperatorOptions } from './operators/triggerDagRunOperator.ts';
export { ExternalTaskSensor } from './operators/sensors/externalTaskSensor.ts';
export type { ExecutionDateFn, ExternalTaskSensorOptions } from './operators/sensors/externalTaskSensor.ts';
export { BaseNotifier } from './core/notifier.ts';
export type { CallbackSpec } from './core/callbacks.ts';
export { WebhookNotifier } from './operators/notifiers/webhookNotifier.ts';
export type { WebhookNotifierOptions } from './operators/notifiers/webhookNotifier.ts';
export { SmtpNotifier } from './operators/notifiers/smtpNotifier.ts';
export type { SmtpNotifierOptions } from './operators/notifiers/smtpNotifier.ts';
