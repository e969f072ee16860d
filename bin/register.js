// Makes this Node process able to run airflow-ts: TypeScript through tsx (ESM
// and CommonJS), and 'airflow-ts' resolved to this installation.
import { register as registerEsm } from 'tsx/esm/api';
import { register as registerCjs } from 'tsx/cjs/api';

registerCjs();
registerEsm();
await import('./resolve-airflow-ts.js');
