import type { CommandModule } from 'yargs';
import { VERSION } from '../../core/version.ts';

export const versionCommand: CommandModule = {
  command: 'version',
  describe: 'Print the airflow-ts version',
  handler: () => console.log(VERSION),
};
