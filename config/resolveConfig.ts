import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../core/errors.ts';
import { AIRFLOW_ALIASES, envVarName, toCamel, toSnake } from './names.ts';
import { configSchema, SECTIONS, sectionKeys, type AirflowConfig, type ResolvedConfig, type SectionName } from './schema.ts';

export interface ResolveOptions {
  /** Path from --config; wins over AIRFLOW_CONFIG. */
  configFile?: string;
  /** Per-key overrides from CLI flags, as 'section.key' -> value; win over everything. */
  overrides?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const CONFIG_NAMES = ['airflow.config.ts', 'airflow.config.mts', 'airflow.config.js', 'airflow.config.mjs'];

/**
 * Builds the effective config in named layers: schema defaults, then
 * airflow.config.ts, then AIRFLOW__SECTION__KEY env vars, then CLI flags.
 * Validates once at the end; a bad value throws a ConfigError naming the key,
 * the value, where it came from and what is allowed.
 */
export async function resolveConfig(options: ResolveOptions = {}): Promise<ResolvedConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const airflowHome = path.resolve(cwd, expandHome(env.AIRFLOW_HOME || path.join(os.homedir(), 'airflow')));
  const configFile = findConfigFile(options.configFile ?? env.AIRFLOW_CONFIG, cwd, airflowHome);

  const raw: Record<string, Record<string, unknown>> = {};
  const sources = new Map<string, string>();
  const set = (section: string, key: string, value: unknown, source: string) => {
    (raw[section] ??= {})[key] = value;
    sources.set(`${section}.${key}`, source);
  };

  if (configFile) {
    const fileConfig = await loadConfigFile(configFile);
    const baseDir = path.dirname(configFile);
    for (const [section, values] of Object.entries(fileConfig)) {
      if (values === null || typeof values !== 'object') {
        throw new ConfigError(section, values, `an object of ${section} settings`, configFile);
      }
      for (const [key, value] of Object.entries(values)) {
        set(section, key, isPathKey(section, key) && typeof value === 'string' ? path.resolve(baseDir, expandHome(value)) : value, configFile);
      }
    }
  }

  for (const [section, key, value, name] of envOverrides(env)) {
    set(section, key, isPathKey(section, key) ? path.resolve(cwd, expandHome(value)) : value, `env ${name}`);
  }

  for (const [dotted, value] of Object.entries(options.overrides ?? {})) {
    if (value === undefined) continue;
    const [section = '', key = ''] = dotted.split('.');
    set(section, key, value, 'command line');
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const [section, key] = issue.path.map(String);
    const dotted = [section, key].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      const unknown = issue.keys[0]!;
      const where = section ? `${section}.${unknown}` : unknown;
      const allowed = section ? sectionKeys(section as SectionName) : SECTIONS;
      throw new ConfigError(
        where,
        section ? raw[section]?.[unknown] : raw[unknown],
        `a known key: ${allowed.join(', ')}`,
        section ? sources.get(where) : (configFile ?? undefined),
      );
    }
    throw new ConfigError(dotted, section && key ? raw[section]?.[key] : undefined, issue.message, sources.get(dotted));
  }

  const config = parsed.data;
  return deepFreeze({
    airflowHome,
    configFile,
    ...config,
    core: { ...config.core, dagsFolder: config.core.dagsFolder ?? path.join(airflowHome, 'dags') },
    database: { ...config.database, url: normalizeDatabaseUrl(config.database.url) },
    logging: { ...config.logging, baseLogFolder: config.logging.baseLogFolder ?? path.join(airflowHome, 'logs') },
  });
}

function findConfigFile(explicit: string | undefined, cwd: string, airflowHome: string): string | null {
  if (explicit) {
    const file = path.resolve(cwd, expandHome(explicit));
    if (!existsSync(file)) throw new ConfigError('config file', file, 'an existing file (from --config or AIRFLOW_CONFIG)');
    return file;
  }
  for (const dir of [cwd, airflowHome]) {
    for (const name of CONFIG_NAMES) {
      const candidate = path.join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
  }
  return null;
}

async function loadConfigFile(file: string): Promise<AirflowConfig> {
  let mod: { default?: unknown; config?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as typeof mod;
  } catch (error) {
    throw new ConfigError('config file', file, `a file that imports without error (${(error as Error).message})`);
  }
  const config = mod.default ?? mod.config;
  if (config === null || typeof config !== 'object') {
    throw new ConfigError('config file', file, 'a module whose default export is defineConfig({...})');
  }
  return config as AirflowConfig;
}

/** Yields [section, camelKey, value, envName] for every AIRFLOW__SECTION__KEY that names a known key. */
function* envOverrides(env: NodeJS.ProcessEnv): Generator<[string, string, string, string]> {
  // Airflow's own names go first so our names win when both are set.
  for (const [alias, target] of Object.entries(AIRFLOW_ALIASES)) {
    const [section = '', key = ''] = alias.split('.');
    const name = `AIRFLOW__${section.toUpperCase()}__${key.toUpperCase()}`;
    const value = env[name];
    if (value !== undefined) {
      const [targetSection = '', targetKey = ''] = target.split('.');
      yield [targetSection, targetKey, value, name];
    }
  }
  for (const section of SECTIONS) {
    for (const key of sectionKeys(section)) {
      const name = envVarName(section, key);
      const value = env[name];
      if (value !== undefined) yield [section, key, value, name];
    }
  }
}

function isPathKey(section: string, key: string): boolean {
  return (section === 'core' && key === 'dagsFolder') || (section === 'logging' && key === 'baseLogFolder');
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/** Accepts SQLAlchemy-style URLs (postgresql+psycopg2://) as carried over from Airflow. */
function normalizeDatabaseUrl(url: string): string {
  const trimmed = url.trim();
  if (trimmed === '') return '';
  const match = /^(postgres(?:ql)?)(\+[a-z0-9]+)?:\/\//i.exec(trimmed);
  if (!match) throw new ConfigError('database.url', url, 'a postgres:// or postgresql:// URL, or empty for the embedded Postgres');
  return `postgresql://${trimmed.slice(match[0].length)}`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Looks up SECTION KEY as a person types it (snake_case or camelCase), for `airflow config get-value`. */
export function configValue(config: ResolvedConfig, section: string, key: string): unknown {
  const sectionName = section.toLowerCase() as SectionName;
  if (!SECTIONS.includes(sectionName)) throw new ConfigError(section, undefined, `a section: ${SECTIONS.join(', ')}`);
  const camel = key.includes('_') ? toCamel(key) : key;
  const values = config[sectionName] as Record<string, unknown>;
  if (!(camel in values)) {
    throw new ConfigError(`${sectionName}.${key}`, undefined, `a key of [${sectionName}]: ${sectionKeys(sectionName).map(toSnake).join(', ')}`);
  }
  return values[camel];
}
