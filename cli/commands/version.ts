import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';

export const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export const versionCommand: CommandModule = {
  command: 'version',
  describe: 'Print the airflow-ts version',
  handler: () => console.log(VERSION),
};
