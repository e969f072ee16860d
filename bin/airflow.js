#!/usr/bin/env node
// The `airflow` command: set up TypeScript loading, then hand over to the CLI.
import './register.js';

await import('../cli/main.ts');
