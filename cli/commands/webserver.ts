import type { CommandModule } from 'yargs';
import { startWebserver } from '../../webserver/startWebserver.ts';
import { withRuntime, type GlobalArgs } from '../runtime.ts';
import { untilStopSignal } from '../untilStopSignal.ts';

export const webserverCommand: CommandModule<GlobalArgs, GlobalArgs & { port?: number; hostname?: string }> = {
  command: 'webserver',
  describe: 'Serve the REST API (and web UI) on webserver.port',
  builder: (y) =>
    y
      .option('port', { alias: 'p', type: 'number', describe: 'Port (default webserver.port)' })
      .option('hostname', { alias: 'H', type: 'string', describe: 'Address to bind (default webserver.host)' }),
  handler: (args) =>
    withRuntime(args, async (runtime) => {
      const stopped = untilStopSignal();
      const { knex } = await runtime.db();
      const server = await startWebserver({
        knex,
        config: runtime.config,
        logger: runtime.logger.child({ component: 'webserver' }),
        port: args.port,
        host: args.hostname,
      });
      runtime.logger.info(`webserver listening on ${server.url} (REST API at ${server.url}/api/v1)`, { component: 'webserver' });
      await stopped;
      await server.stop();
    }),
};
