import type { ResolvedConfig } from './schema.ts';

/**
 * The environment of a process this one starts to run user code (task workers, DAG callbacks): the
 * AIRFLOW_HOME, config file, database URL and Fernet key of this process, so it uses the same database and
 * decrypts what this one encrypted (ADR 0008). With `databaseUrl` null (the embedded server) it attaches to the
 * AIRFLOW_HOME's embedded server itself, and so follows it to a new port after a restart (ADR 0009).
 */
export function childProcessEnv(config: ResolvedConfig, databaseUrl: string | null): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AIRFLOW_HOME: config.airflowHome,
    ...(databaseUrl ? { AIRFLOW__DATABASE__URL: databaseUrl } : {}),
    ...(config.configFile ? { AIRFLOW_CONFIG: config.configFile } : {}),
    ...(config.core.fernetKey ? { AIRFLOW__CORE__FERNET_KEY: config.core.fernetKey } : {}),
  };
}
