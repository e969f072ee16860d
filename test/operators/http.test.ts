import { createServer } from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { serializeDag } from '../../core/serialize.ts';
import { AirflowError, AirflowFailException, AirflowRescheduleException, DagDefinitionError, TaskDeferred } from '../../core/errors.ts';
import type { ConnectionInfo } from '../../core/taskContext.ts';
import { baseUrl, ResponseTooLargeError, urlFor } from '../../operators/http/httpHook.ts';
import { HttpOperator } from '../../operators/http/httpOperator.ts';
import { HttpSensor } from '../../operators/http/httpSensor.ts';
import { eventually } from '../helpers/eventually.ts';
import { startHttpServer } from '../helpers/httpServer.ts';
import { contextFor, runTask } from './fakeRunner.ts';

let n = 0;
const dag = () => new DAG({ dagId: `http_ops_${++n}` });
const server = await startHttpServer((request, count) => {
  if (request.url.startsWith('/flaky')) return count === 0 ? { status: 503, body: 'busy' } : { status: 200, body: { ok: true } };
  if (request.url.startsWith('/missing')) return { status: 404, body: 'nope' };
  if (request.url.startsWith('/appears')) return count < 2 ? { status: 404, body: 'not yet' } : { status: 200, body: { state: 'ready' } };
  if (request.url.startsWith('/boom')) return { status: 500, body: 'internal' };
  return { status: 200, body: { method: request.method, url: request.url, body: request.body } };
});
const connection = (changes: Partial<ConnectionInfo> = {}): ConnectionInfo => ({
  conn_type: 'http',
  host: '127.0.0.1',
  schema: 'http',
  port: server.port,
  login: 'svc',
  password: 'http-pass-48213',
  extra: { 'X-Team': 'data' },
  ...changes,
});
const withConn = (conn: ConnectionInfo = connection()) => ({ connections: { get: (id: string) => (id === 'api' ? conn : undefined) } });

describe('HttpOperator against a real HTTP server', () => {
  it('sends the templated endpoint, JSON data, connection headers and basic auth; returns the response text', async () => {
    const task = new HttpOperator({
      dag: dag(),
      taskId: 'post',
      httpConnId: 'api',
      endpoint: 'load/{{ ds }}',
      data: { day: '{{ ds }}' },
      headers: { 'X-Run': '{{ run_id }}' },
    });
    expect(() => serializeDag(task.dag)).not.toThrow(); // every template field is serialized (the DAG processor checks)
    const run = contextFor(task, withConn());
    const result = JSON.parse((await runTask(run)) as string);
    expect(result).toEqual({ method: 'POST', url: '/load/2024-01-02', body: '{"day":"2024-01-02"}' });
    const request = server.received.at(-1)!;
    expect(request.headers['x-team']).toBe('data');
    expect(request.headers['x-run']).toBe('manual__2024-01-02T03:04:05+00:00');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from('svc:http-pass-48213').toString('base64')}`);
    expect(run.lines.join('\n')).toContain(`Sending 'POST' to url: ${server.url}/load/2024-01-02`);
    expect(run.lines.join('\n')).not.toMatch(/http-pass-48213|Authorization/);
  });

  it('GET data becomes the query string; responseFilter makes the XCom', async () => {
    const task = new HttpOperator({
      dag: dag(),
      taskId: 'get',
      httpConnId: 'api',
      method: 'get',
      endpoint: '/items',
      data: { page: 2, tag: ['a', 'b'] },
      responseFilter: (response) => (response.json() as { url: string }).url,
    });
    const run = contextFor(task, withConn());
    expect(await runTask(run)).toBe('/items?page=2&tag=a&tag=b');
    expect(run.xcom.get(task.dag.dagId, 'get')).toBe('/items?page=2&tag=a&tag=b');
  });

  it('a 5xx fails the try with a retryable error naming status and URL; a 404 too', async () => {
    const boom = new HttpOperator({ dag: dag(), taskId: 'boom', httpConnId: 'api', endpoint: 'boom', method: 'GET' });
    const error = await runTask(contextFor(boom, withConn())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirflowError);
    expect(error).not.toBeInstanceOf(AirflowFailException);
    expect((error as Error).message).toBe(`500:Internal Server Error from ${server.url}/boom: internal`);
    const missing = new HttpOperator({ dag: dag(), taskId: 'missing', httpConnId: 'api', endpoint: 'missing' });
    await expect(runTask(contextFor(missing, withConn()))).rejects.toThrow(/^404:Not Found from/);
  });

  it('responseCheck returning false fails with the status and URL; checkResponse false lets it see a 500', async () => {
    const task = new HttpOperator({ dag: dag(), taskId: 'check', httpConnId: 'api', endpoint: 'x', responseCheck: (r) => r.text.includes('"nothing"') });
    await expect(runTask(contextFor(task, withConn()))).rejects.toThrow(`Response check returned False: POST ${server.url}/x answered 200`);
    const lenient = new HttpOperator({
      dag: dag(),
      taskId: 'lenient',
      httpConnId: 'api',
      endpoint: 'boom',
      extraOptions: { checkResponse: false },
      responseCheck: (r) => r.status === 500,
      responseFilter: (r) => r.status,
    });
    expect(await runTask(contextFor(lenient, withConn()))).toBe(500);
  });

  it('a missing connection or an unreachable server is a clear error', async () => {
    const task = new HttpOperator({ dag: dag(), taskId: 't', httpConnId: 'nope', endpoint: 'x' });
    await expect(runTask(contextFor(task, withConn()))).rejects.toThrow(/connection 'nope' does not exist; create an http connection/);
    const free = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => free.once('listening', resolve));
    const port = (free.address() as net.AddressInfo).port;
    await new Promise((resolve) => free.close(resolve));
    const closed = new HttpOperator({ dag: dag(), taskId: 'closed', httpConnId: 'api', endpoint: 'x' });
    await expect(runTask(contextFor(closed, withConn(connection({ port }))))).rejects.toThrow(
      /POST http:\/\/127.0.0.1:\d+\/x failed: fetch failed: .*ECONNREFUSED/,
    );
  });

  it('a body over maxResponseBytes fails the request without reading the rest (an endless response ends)', async () => {
    let closed = false;
    const endless = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('x'.repeat(16_384)), 1);
      res.on('close', () => {
        clearInterval(timer);
        closed = true;
      });
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    try {
      const port = (endless.address() as net.AddressInfo).port;
      const task = new HttpOperator({
        dag: dag(),
        taskId: 'big',
        httpConnId: 'api',
        endpoint: 'stream',
        method: 'GET',
        extraOptions: { maxResponseBytes: 100_000 },
      });
      const error = await runTask(contextFor(task, withConn(connection({ port })))).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ResponseTooLargeError);
      expect((error as Error).message).toBe(
        `the response of GET http://127.0.0.1:${port}/stream is over 100000 bytes (maxResponseBytes); ask for less, or raise extraOptions.maxResponseBytes`,
      );
      await eventually('the server to see the connection closed', () => closed);
    } finally {
      endless.closeAllConnections();
      await new Promise((resolve) => endless.close(resolve));
    }
    expect(() => new HttpOperator({ dag: dag(), taskId: 't', extraOptions: { maxResponseBytes: 0 } })).toThrow(/maxResponseBytes must be a positive integer/);
  });

  it('maps the connection to a base URL as Airflow: scheme from host or schema, then port', () => {
    expect(baseUrl(connection({ host: 'https://api.example.com', port: null }))).toBe('https://api.example.com');
    expect(baseUrl(connection({ host: 'api.example.com', schema: 'https', port: 8443 }))).toBe('https://api.example.com:8443');
    expect(baseUrl(connection({ host: 'api.example.com', schema: null, port: null }))).toBe('http://api.example.com');
    expect(urlFor('http://h', 'a/b')).toBe('http://h/a/b');
    expect(urlFor('http://h/', '/a')).toBe('http://h//a');
  });

  it('rejects bad options when the DAG is defined', () => {
    expect(() => new HttpOperator({ dag: dag(), taskId: 't', method: 'GET /x' })).toThrow(DagDefinitionError);
    expect(() => new HttpOperator({ dag: dag(), taskId: 't', headers: { a: 1 as never } })).toThrow(/headers.a must be a string/);
    expect(() => new HttpOperator({ dag: dag(), taskId: 't', responseCheck: true as never })).toThrow(/responseCheck must be a function/);
  });
});

describe('HttpSensor against a real HTTP server', () => {
  const pokeOnce = { mode: 'reschedule' as const };
  const poked = (promise: Promise<unknown>) =>
    promise.then(
      () => 'done',
      (e: unknown) => (e instanceof AirflowRescheduleException ? 'not yet' : Promise.reject(e)),
    );

  it('a 404 is "not yet"; done once the endpoint answers and responseCheck agrees', async () => {
    const sensor = new HttpSensor({
      dag: dag(),
      taskId: 'wait',
      httpConnId: 'api',
      endpoint: 'appears',
      responseCheck: (r) => (r.json() as { state: string }).state === 'ready',
      ...pokeOnce,
    });
    expect(() => serializeDag(sensor.dag)).not.toThrow();
    expect(await poked(runTask(contextFor(sensor, withConn())))).toBe('not yet');
    expect(await poked(runTask(contextFor(sensor, withConn())))).toBe('not yet');
    expect(await poked(runTask(contextFor(sensor, withConn())))).toBe('done');
  });

  it('a status outside the allowlist fails the poke; responseCheck false is "not yet"', async () => {
    const boom = new HttpSensor({ dag: dag(), taskId: 'boom', httpConnId: 'api', endpoint: 'boom', ...pokeOnce });
    await expect(runTask(contextFor(boom, withConn()))).rejects.toThrow(/^500:/);
    const never = new HttpSensor({ dag: dag(), taskId: 'never', httpConnId: 'api', endpoint: 'x', responseCheck: () => false, ...pokeOnce });
    expect(await poked(runTask(contextFor(never, withConn())))).toBe('not yet');
    expect(() => new HttpSensor({ dag: dag(), taskId: 't', endpoint: 'x', responseErrorCodeAllowlist: [42] })).toThrow(/responseErrorCodeAllowlist/);
  });

  it('deferrable: pokes once, then defers to an HttpSensorTrigger carrying the rendered request; with a responseCheck it pokes instead', async () => {
    const sensor = new HttpSensor({
      dag: dag(),
      taskId: 'd',
      httpConnId: 'api',
      endpoint: 'missing/{{ ds }}',
      deferrable: true,
      pokeInterval: 250,
      timeout: 5000,
    });
    const deferred = (await runTask(contextFor(sensor, withConn())).catch((e: unknown) => e)) as TaskDeferred;
    expect(deferred).toBeInstanceOf(TaskDeferred);
    expect([deferred.trigger.classpath, deferred.method, deferred.timeoutMs]).toEqual([
      'airflow.providers.http.triggers.http.HttpSensorTrigger',
      'executeComplete',
      5000,
    ]);
    expect(deferred.trigger.kwargs).toMatchObject({
      httpConnId: 'api',
      endpoint: 'missing/2024-01-02',
      method: 'GET',
      pokeIntervalMs: 250,
      responseErrorCodeAllowlist: [404],
    });
    const checked = new HttpSensor({ dag: dag(), taskId: 'c', httpConnId: 'api', endpoint: 'x', deferrable: true, responseCheck: () => true });
    const run = contextFor(checked, withConn());
    await runTask(run);
    expect(run.lines.some((l) => l.includes('deferrable is ignored with a responseCheck'))).toBe(true);
  });
});
