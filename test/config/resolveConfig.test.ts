import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configValue, resolveConfig } from '../../config/resolveConfig.ts';
import { ConfigError } from '../../core/errors.ts';

const defineConfigUrl = new URL('../../config/defineConfig.ts', import.meta.url).href;

function projectWithConfig(body: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-config-'));
  writeFileSync(path.join(dir, 'airflow.config.ts'), `import { defineConfig } from '${defineConfigUrl}';\nexport default defineConfig(${body});\n`);
  return dir;
}

describe('resolveConfig', () => {
  it('uses defaults rooted at AIRFLOW_HOME when there is no config file', async () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-empty-'));
    const config = await resolveConfig({ cwd, env: { AIRFLOW_HOME: '/srv/af' } });
    expect(config.configFile).toBeNull();
    expect(config.core.dagsFolder).toBe('/srv/af/dags');
    expect(config.logging.baseLogFolder).toBe('/srv/af/logs');
    expect(config.core.parallelism).toBe(32);
    expect(config.core.executor).toBe('LocalExecutor');
    expect(config.database.url).toBe('');
    expect(Object.isFrozen(config.core)).toBe(true);
  });

  it('layers defaults < file < env < flags, resolving file paths against the file', async () => {
    const cwd = projectWithConfig(`{ core: { dagsFolder: './my_dags', parallelism: 4, maxActiveRunsPerDag: 3 }, webserver: { port: 9000 } }`);
    const config = await resolveConfig({
      cwd,
      env: { AIRFLOW_HOME: '/srv/af', AIRFLOW__CORE__PARALLELISM: '8', AIRFLOW__CORE__LOAD_EXAMPLES: 'False' },
      overrides: { 'webserver.port': 9100 },
    });
    expect(config.configFile).toBe(path.join(cwd, 'airflow.config.ts'));
    expect(config.core.dagsFolder).toBe(path.join(cwd, 'my_dags'));
    expect(config.core.parallelism).toBe(8); // env beats file
    expect(config.core.maxActiveRunsPerDag).toBe(3); // file beats default
    expect(config.core.loadExamples).toBe(false);
    expect(config.webserver.port).toBe(9100); // flag beats file
  });

  it('finds the file through AIRFLOW_CONFIG and accepts Airflow spellings of keys', async () => {
    const dir = projectWithConfig(`{ core: { parallelism: 5 } }`);
    const config = await resolveConfig({
      cwd: os.tmpdir(),
      env: {
        AIRFLOW_CONFIG: path.join(dir, 'airflow.config.ts'),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'postgresql+psycopg2://u:p@db.example:5432/airflow',
        AIRFLOW__WEBSERVER__WEB_SERVER_PORT: '8181',
      },
    });
    expect(config.core.parallelism).toBe(5);
    expect(config.database.url).toBe('postgresql://u:p@db.example:5432/airflow');
    expect(config.webserver.port).toBe(8181);
  });

  it.each([
    [{ AIRFLOW__CORE__PARALLELISM: 'lots' }, 'core.parallelism', /"lots".*AIRFLOW__CORE__PARALLELISM.*integer >= 1/],
    [{ AIRFLOW__CORE__PARALLELISM: '0' }, 'core.parallelism', /integer >= 1/],
    [{ AIRFLOW__CORE__EXECUTOR: 'CeleryExecutor' }, 'core.executor', /one of SequentialExecutor, LocalExecutor, KubernetesExecutor/],
    [{ AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION: 'maybe' }, 'core.dagsArePausedAtCreation', /true or false/],
    [{ AIRFLOW__DATABASE__URL: 'mysql://x' }, 'database.url', /postgres/],
  ])('rejects a bad env value %o naming the key, value and what is allowed', async (env, key, message) => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-empty-'));
    const error = await resolveConfig({ cwd, env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe(key);
    expect(String((error as Error).message)).toMatch(message);
  });

  it('rejects unknown keys in the file, listing the known ones', async () => {
    const cwd = projectWithConfig(`{ core: { paralelism: 4 } } as never`);
    const error = (await resolveConfig({ cwd, env: {} }).catch((e: unknown) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.key).toBe('core.paralelism');
    expect(error.message).toMatch(/parallelism/);
  });

  it('rejects a missing --config file and a file that does not export a config', async () => {
    await expect(resolveConfig({ configFile: '/nonexistent/airflow.config.ts', env: {} })).rejects.toThrow(/existing file/);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-bad-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'airflow.config.ts'), 'export const x = 1;\n');
    await expect(resolveConfig({ cwd: dir, env: {} })).rejects.toThrow(/default export/);
  });

  it('configValue looks keys up in snake_case or camelCase', async () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-empty-'));
    const config = await resolveConfig({ cwd, env: { AIRFLOW_HOME: '/srv/af' } });
    expect(configValue(config, 'core', 'dags_folder')).toBe('/srv/af/dags');
    expect(configValue(config, 'CORE', 'dagsFolder')).toBe('/srv/af/dags');
    expect(() => configValue(config, 'core', 'nope')).toThrow(/dags_folder/);
    expect(() => configValue(config, 'nosection', 'x')).toThrow(/core, database/);
  });
});
