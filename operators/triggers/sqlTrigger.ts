/**
 * SqlSensorTrigger: a deferrable SqlSensor's wait. Every `pokeIntervalMs` it runs the sensor's query through the
 * `postgres` connection `connId` (read in the triggerer: no password in the trigger row) and fires once the first
 * row's first column is truthy, with that value. No row is "not yet", or a failure with `failOnEmpty`. (Airflow has
 * no SQL trigger; the name is ours.)
 */
import { BaseTrigger, registerTrigger, TriggerEvent, type Json, type TriggerContext } from '../../core/trigger.ts';
import { checkPostgresConnection, clientConfig, firstRow } from '../sql/postgresHook.ts';
import { sleep } from './temporalTrigger.ts';

export type SqlSensorTriggerKwargs = {
  connId: string;
  sql: string;
  parameters: Json[];
  failOnEmpty: boolean;
  pokeIntervalMs: number;
  taskId: string;
};

export class SqlSensorTrigger extends BaseTrigger<SqlSensorTriggerKwargs> {
  static override readonly classpath = 'airflow_ts.triggers.sql.SqlSensorTrigger';

  async run(context: TriggerContext): Promise<TriggerEvent> {
    const { connId, sql, parameters, failOnEmpty, pokeIntervalMs, taskId } = this.kwargs;
    for (;;) {
      const connection = checkPostgresConnection(await context.connection(connId), connId, 'SqlSensorTrigger');
      const row = await firstRow(context, clientConfig(connection, connId), sql, parameters.length ? parameters : undefined, taskId);
      if (row === undefined && failOnEmpty) throw new Error('No rows returned, raising as per failOnEmpty flag');
      if (row !== undefined && row[0]) return new TriggerEvent({ value: JSON.parse(JSON.stringify(row[0])) as Json });
      await sleep(pokeIntervalMs, context.signal);
    }
  }
}

registerTrigger(SqlSensorTrigger);
