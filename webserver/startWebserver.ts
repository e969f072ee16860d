import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import type { ResolvedConfig } from '../config/schema.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { createApp } from './app.ts';

/** Listens on webserver.host:port (0: a free port), over HTTPS when webserver.sslCert and sslKey are set; returns the base URL and a stop function that drains connections. */
export async function startWebserver(options: {
  knex: Knex;
  config: ResolvedConfig;
  logger: Logger;
  port?: number;
  host?: string;
  now?: () => Date;
}): Promise<{ url: string; stop: () => Promise<void> }> {
  const app = createApp(options);
  const host = options.host ?? options.config.webserver.host;
  const { sslCert, sslKey } = options.config.webserver;
  if (Boolean(sslCert) !== Boolean(sslKey))
    throw new ConfigError(sslCert ? 'webserver.sslKey' : 'webserver.sslCert', '', 'a PEM file path: HTTPS needs both webserver.sslCert and webserver.sslKey');
  const tls = Boolean(sslCert);
  const server = tls ? https.createServer({ cert: readFileSync(sslCert), key: readFileSync(sslKey) }, app) : http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? options.config.webserver.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    url: `${tls ? 'https' : 'http'}://${shownHost}:${port}`,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
