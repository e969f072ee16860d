// Entry for our child processes (DAG file parsers, task runners): node bin/run-ts.js <module.ts> [args...]
import './register.js';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const [, , modulePath] = process.argv;
if (!modulePath) {
  console.error('usage: node bin/run-ts.js <module> [args...]');
  process.exit(2);
}
await import(pathToFileURL(path.resolve(modulePath)).href);
