import { afterAll } from 'vitest';
import type { Knex } from 'knex';
import type { ResolvedConfig } from '../../config/schema.ts';
import { memoryLogger } from '../../core/logger.ts';
import { createUser, ROLES, type Role } from '../../db/models/user.ts';
import { startWebserver } from '../../webserver/startWebserver.ts';

export const PASSWORD = 'correct horse battery';

/**
 * A real webserver on a free loopback port over the test database, with one
 * user per role (username = role in lower case), and a fetch helper that
 * authenticates as one of them.
 */
export async function startTestApi(knex: Knex, config: ResolvedConfig) {
  for (const role of ROLES) {
    if (!(await knex('users').where('username', role.toLowerCase()).first('id')))
      await createUser(knex, { username: role.toLowerCase(), password: PASSWORD, role });
  }
  const logger = memoryLogger();
  const server = await startWebserver({ knex, config, logger, port: 0, host: '127.0.0.1' });
  afterAll(() => server.stop());
  const call = async (method: string, path: string, options: { as?: Role | null; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}) => {
    const as = options.as === undefined ? 'Admin' : options.as;
    const headers: Record<string, string> = { ...options.headers };
    if (as) headers.authorization = `Basic ${Buffer.from(`${as.toLowerCase()}:${PASSWORD}`).toString('base64')}`;
    if (options.body !== undefined || options.rawBody !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers,
      body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: response.status, json, text, headers: response.headers };
  };
  return { url: server.url, call, logger };
}
