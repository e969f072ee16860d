import { readFileSync } from 'node:fs';

/** The airflow-ts version (package.json's), for `airflow version`, the API's /version and openapi.json. */
export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
