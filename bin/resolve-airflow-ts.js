// Resolves the bare specifier 'airflow-ts' to this installation, for ES modules
// (a loader hook) and CommonJS (require), so a DAG file anywhere on disk gets
// the same classes as the process importing it. Safe to import more than once.
import Module, { register } from 'node:module';
import { fileURLToPath } from 'node:url';

const installed = Symbol.for('airflow-ts.resolveHookInstalled');

if (!globalThis[installed]) {
  globalThis[installed] = true;
  const entry = fileURLToPath(new URL('../index.ts', import.meta.url));
  register(new URL('./airflow-ts-resolve-hook.js', import.meta.url), { data: { entry } });
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    return resolveFilename.call(this, request === 'airflow-ts' ? entry : request, ...rest);
  };
}
