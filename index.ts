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
export { AirflowSkipException, AirflowFailException, AirflowSensorTimeout, AirflowRescheduleException } from './core/errors.ts';
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
export { defineConfig } from './config/defineConfig.ts';
export type { AirflowConfig } from './config/schema.ts';
