import type { AirflowConfig } from './schema.ts';

/** Types the default export of airflow.config.ts; returns its argument unchanged. */
export function defineConfig(config: AirflowConfig): AirflowConfig {
  return config;
}
