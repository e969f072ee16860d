// Module resolve hook (runs on Node's loader thread): maps 'airflow-ts' to this installation.
import { pathToFileURL } from 'node:url';

let entryUrl;

export function initialize(data) {
  entryUrl = pathToFileURL(data.entry).href;
}

export function resolve(specifier, context, next) {
  if (specifier === 'airflow-ts') return { url: entryUrl, format: 'module', shortCircuit: true };
  return next(specifier, context);
}
