/**
 * HttpSensorTrigger (Airflow's airflow.providers.http.triggers.http.HttpSensorTrigger): a deferrable HttpSensor's
 * wait. Every `pokeIntervalMs` it sends the sensor's request through the `http` connection `httpConnId` (read
 * in the triggerer, so no password is stored in the trigger row); a status in the allowlist means "not yet", a
 * 2xx-3xx fires with the status, another status fails the task with its message. The body is read up to
 * maxResponseBytes only: one trigger must not fill the memory the triggerer's thousands of triggers share.
 */
import { BaseTrigger, registerTrigger, TriggerEvent, type Json, type TriggerContext } from '../../core/trigger.ts';
import { checkHttpConnection, pokeHttp } from '../http/httpHook.ts';
import { sleep } from './temporalTrigger.ts';

export type HttpSensorTriggerKwargs = {
  httpConnId: string;
  endpoint: string;
  method: string;
  data: Json;
  headers: Record<string, string>;
  responseErrorCodeAllowlist: number[];
  checkResponse: boolean;
  requestTimeoutMs: number;
  maxResponseBytes: number;
  pokeIntervalMs: number;
};

export class HttpSensorTrigger extends BaseTrigger<HttpSensorTriggerKwargs> {
  static override readonly classpath = 'airflow.providers.http.triggers.http.HttpSensorTrigger';

  async run(context: TriggerContext): Promise<TriggerEvent> {
    const { httpConnId, endpoint, method, data, headers, responseErrorCodeAllowlist, checkResponse, requestTimeoutMs, maxResponseBytes, pokeIntervalMs } =
      this.kwargs;
    for (;;) {
      const connection = checkHttpConnection(await context.connection(httpConnId), httpConnId, 'HttpSensorTrigger');
      const request = { method, endpoint, data, headers, checkResponse, timeoutMs: requestTimeoutMs, maxResponseBytes };
      const response = await pokeHttp(context, connection, request, responseErrorCodeAllowlist);
      if (response) return new TriggerEvent({ status: response.status });
      await sleep(pokeIntervalMs, context.signal);
    }
  }
}

registerTrigger(HttpSensorTrigger);
