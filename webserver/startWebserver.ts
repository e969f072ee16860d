import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import type { ResolvedConfig } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import { createApp } from './app.ts';

/** Listens on webserver.host:port (0: a free port); returns the base URL and a stop function that drains connections. */
export async function startWebserver(options: { knex: Knex; config: ResolvedConfig; logger: Logger; port?: number; host?: string; now?: () => Date }): Promise<{ url: string; stop: () => Promise<void> }> {
  const app = createApp(options);
  const host = options.host ?? options.config.webserver.host;
  const server = await new Promise<import('node:http').Server>((resolve, reject) => {
    const s = app.listen(options.port ?? options.config.webserver.port, host, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    url: `http://${shownHost}:${port}`,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
