import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll } from 'vitest';

/** A request the local server received. */
export interface ReceivedRequest {
  method: string;
  /** Path and query string. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** What the server answers: a status and a body (objects as JSON). */
export type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

/**
 * A real HTTP server on 127.0.0.1 that records every request and answers with `route(request, count)`, where
 * `count` is how many requests came to that path before (0 for the first). Closed after the test file.
 */
export async function startHttpServer(route: (request: ReceivedRequest, count: number) => Reply | Promise<Reply>) {
  const received: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', async () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      const path = request.url.split('?')[0];
      const count = received.filter((r) => r.url.split('?')[0] === path).length;
      received.push(request);
      const reply = await route(request, count);
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? '');
      res.writeHead(reply.status, { 'content-type': typeof reply.body === 'string' ? 'text/plain' : 'application/json', ...reply.headers });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  afterAll(() => {
    server.closeAllConnections();
    return close();
  });
  return { port, url: `http://127.0.0.1:${port}`, received };
}
