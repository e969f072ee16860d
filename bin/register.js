// Makes this Node process able to run airflow-ts: TypeScript through tsx (ESM
// and CommonJS), and the bare specifier 'airflow-ts' resolved to this
// installation, so a DAG file anywhere on disk gets the same classes the
// scheduler uses, whether or not its folder has airflow-ts installed.
import Module, { register } from 'node:module';
import { fileURLToPath } from 'node:url';
import { register as registerEsm } from 'tsx/esm/api';
import { register as registerCjs } from 'tsx/cjs/api';

registerCjs();
registerEsm();

const entry = fileURLToPath(new URL('../index.ts', import.meta.url));
register(new URL('./airflow-ts-resolve-hook.js', import.meta.url), { data: { entry } });

// CommonJS DAG files (a .ts file in a folder without "type": "module") call require().
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolveFilename.call(this, request === 'airflow-ts' ? entry : request, ...rest);
};
