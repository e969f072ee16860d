// Resolves the bare specifier 'airflow-ts' to this installation, for ES modules
// (a loader hook) and CommonJS (require), so a DAG file anywhere on disk gets
// the same classes as the process importing it. Safe to import more than once.
import Module, { register } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const installed = Symbol.for('airflow-ts.resolveHookInstalled');
const shared = Symbol.for('airflow-ts.sharedModule');
const entry = fileURLToPath(new URL('../index.ts', import.meta.url));

if (!globalThis[installed]) {
  globalThis[installed] = true;
  register(new URL('./airflow-ts-resolve-hook.js', import.meta.url), { data: { entry } });
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    return resolveFilename.call(this, request === 'airflow-ts' ? entry : request, ...rest);
  };
  const load = Module._load;
  Module._load = function (request, ...rest) {
    // Once shared (below), a CommonJS DAG file gets this process's ES module, not a second copy of airflow-ts.
    if (request === 'airflow-ts' && globalThis[shared]) return globalThis[shared];
    return load.call(this, request, ...rest);
  };
}

/**
 * Makes `require('airflow-ts')` in CommonJS DAG files (a folder without
 * "type": "module") return the ES module instance this process uses: one copy
 * of the classes in memory, and no second load on the first DAG import.
 */
export async function shareAirflowTs() {
  globalThis[shared] ??= await import(pathToFileURL(entry).href);
}
