import { defineConfig } from './config/defineConfig.ts';

// Settings for running airflow-ts from this checkout. Every key can be
// overridden by an env var AIRFLOW__SECTION__KEY (e.g. AIRFLOW__CORE__PARALLELISM=8);
// relative paths are relative to this file. See README.md "Configuration".
export default defineConfig({
  core: {
    dagsFolder: './dags',
    executor: 'LocalExecutor',
    parallelism: 32,
    dagsArePausedAtCreation: true,
  },
  database: {
    // Empty: start the embedded Postgres under $AIRFLOW_HOME.
    // Set a URL (or AIRFLOW__DATABASE__SQL_ALCHEMY_CONN) to use your own server.
    url: '',
  },
  webserver: {
    port: 8080,
  },
  logging: {
    level: 'info',
  },
});
