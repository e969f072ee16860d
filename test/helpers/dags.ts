import type { Knex } from 'knex';
import { DAG } from '../../core/dag.ts';
import type { DagOptions } from '../../core/dagOptions.ts';
import { serializeDag, type SerializedDag } from '../../core/serialize.ts';
import { recordParsedFile } from '../../db/dagFileRecords.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';
import type { BaseOperatorOptions } from '../../core/baseOperator.ts';
import { TaskGroup } from '../../core/taskGroup.ts';

/** `upstream` and `group` name other entries of the spec by their key (a grouped task's id gets the group prefix). */
export type TaskSpec = Omit<BaseOperatorOptions, 'dag' | 'taskId' | 'taskGroup'> & { upstream?: string[]; group?: string };
/** Task groups by id, parents listed before their children. */
export type GroupSpec = Record<string, { parent?: string; tooltip?: string }>;

/**
 * Builds a DAG of EmptyOperators from a compact spec, serializes it and records
 * it as the DAG processor would (so the scheduler sees exactly what parsing produces).
 */
export async function registerDag(
  knex: Knex,
  options: DagOptions,
  tasks: Record<string, TaskSpec>,
  record: { paused?: boolean; now?: Date; catchupByDefault?: boolean } = {},
  groups: GroupSpec = {},
): Promise<SerializedDag> {
  const dag = new DAG(options);
  const taskGroups = new Map<string, TaskGroup>();
  for (const [groupId, { parent, tooltip }] of Object.entries(groups)) {
    taskGroups.set(groupId, new TaskGroup({ dag, groupId, tooltip, ...(parent ? { parentGroup: taskGroups.get(parent)! } : {}) }));
  }
  const ops = new Map<string, EmptyOperator>();
  for (const [taskId, { upstream: _upstream, group, ...spec }] of Object.entries(tasks)) {
    ops.set(taskId, new EmptyOperator({ dag, taskId, ...spec, ...(group ? { taskGroup: taskGroups.get(group)! } : {}) }));
  }
  for (const [taskId, { upstream = [] }] of Object.entries(tasks)) for (const up of upstream) ops.get(up)!.then(ops.get(taskId)!);
  const serialized = { ...serializeDag(dag), fileloc: `/virtual/${options.dagId}.ts` };
  await recordParsedFile(knex, {
    file: serialized.fileloc,
    dags: [serialized],
    source: '// test',
    parsedAt: record.now ?? new Date(),
    pausedAtCreation: record.paused ?? false,
    catchupByDefault: record.catchupByDefault ?? true,
  });
  return serialized;
}
