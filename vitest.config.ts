import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Inside vitest, modules go through Vite's resolver rather than Node's loader hooks;
    // this mirrors what bin/resolve-airflow-ts.js does for the real processes.
    alias: { 'airflow-ts': fileURLToPath(new URL('./index.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['test/globalSetup.ts'],
  },
});
