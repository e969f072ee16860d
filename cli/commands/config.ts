import type { Argv } from 'yargs';
import { configValue } from '../../config/resolveConfig.ts';
import { AirflowError } from '../../core/errors.ts';
import { toSnake } from '../../config/names.ts';
import { SECTIONS } from '../../config/schema.ts';
import { outputOption, printRows } from '../output.ts';
import { withRuntime, type GlobalArgs } from '../runtime.ts';
import { redact } from './db.ts';

export function configCommands(yargs: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return yargs
    .command(
      'list',
      'Print the effective configuration (defaults, config file, AIRFLOW__SECTION__KEY env vars)',
      (y) => y.option('output', { ...outputOption, default: 'plain' as const }).option('section', { type: 'string', describe: 'Only this section' }),
      (args) =>
        withRuntime(args, async ({ config }) => {
          const rows = SECTIONS.filter((s) => !args.section || s === args.section).flatMap((section) =>
            Object.entries(config[section]).map(([key, value]) => ({ section, key: toSnake(key), value: shown(section, key, value) })),
          );
          if (args.output !== 'plain') return printRows(rows, args.output);
          console.log(`# config file: ${config.configFile ?? '(none)'}\n# AIRFLOW_HOME: ${config.airflowHome}`);
          for (const section of new Set(rows.map((r) => r.section))) {
            console.log(`\n[${section}]`);
            for (const row of rows.filter((r) => r.section === section)) console.log(`${row.key} = ${valueText(row.value)}`);
          }
        }),
    )
    .command(
      'get-value <section> <key>',
      'Print one config value, e.g. `airflow config get-value core dags_folder`',
      (y) => y.positional('section', { type: 'string', demandOption: true }).positional('key', { type: 'string', demandOption: true }),
      (args) =>
        withRuntime(args, async ({ config }) => {
          const value = configValue(config, args.section, args.key);
          if (isKey(args.section, args.key))
            throw new AirflowError(`${args.section}.${args.key} is a secret: airflow config get-value never prints it (read it where you set it)`);
          console.log(valueText(shown(args.section, args.key, value)));
        }),
    )
    .demandCommand(1, 'Choose a config command: list or get-value');
}

/** Objects and lists (kubernetes.env, tolerations) as the JSON an AIRFLOW__SECTION__KEY variable takes. */
function valueText(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Keys (core.fernet_key, webserver.secret_key; either spelling): never printed, by list or get-value. */
const isKey = (section: string, key: string) =>
  (section.toLowerCase() === 'core' && camel(key) === 'fernetKey') || (section.toLowerCase() === 'webserver' && camel(key) === 'secretKey');

/**
 * Secrets are never printed: `config list` shows `***` for the keys and hides the passwords in the database URL
 * and in URLs of kubernetes.env; `get-value` refuses the keys and hides the same passwords.
 */
function shown(section: string, key: string, value: unknown): unknown {
  if (isKey(section, key)) return value ? '***' : '';
  if (section === 'database' && key === 'url' && typeof value === 'string') return redact(value);
  if (section === 'kubernetes' && key === 'env' && typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([name, text]) => [name, typeof text === 'string' ? redact(text) : text]));
  }
  return value;
}
