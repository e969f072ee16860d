import type { SectionName } from './schema.ts';

/** core.dagsFolder -> dags_folder (Airflow's spelling, used in env vars and `airflow config`). */
export function toSnake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export function toCamel(key: string): string {
  return key.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Airflow's own names for keys we spell differently, so an existing
 * AIRFLOW__DATABASE__SQL_ALCHEMY_CONN or AIRFLOW__WEBSERVER__WEB_SERVER_PORT keeps working.
 */
export const AIRFLOW_ALIASES: Readonly<Record<string, `${SectionName}.${string}`>> = {
  'database.sql_alchemy_conn': 'database.url',
  'core.sql_alchemy_conn': 'database.url',
  'core.execute_tasks_new_python_interpreter': 'core.executeTasksNewProcess',
  'webserver.web_server_port': 'webserver.port',
  'webserver.web_server_host': 'webserver.host',
  'webserver.web_server_ssl_cert': 'webserver.sslCert',
  'webserver.web_server_ssl_key': 'webserver.sslKey',
  'logging.logging_level': 'logging.level',
  'kubernetes_executor.namespace': 'kubernetes.namespace',
  'kubernetes_executor.worker_container_repository': 'kubernetes.workerContainerImage',
  'kubernetes_executor.config_file': 'kubernetes.configFile',
};

export function envVarName(section: string, key: string): string {
  return `AIRFLOW__${section.toUpperCase()}__${toSnake(key).toUpperCase()}`;
}
