/**
 * Classic operators mapped over lists found at run time, and task outputs transformed before mapping.
 *
 *   list_files ─┬─> checksum[algorithm × file]    BashOperator.partial().expand(): the cartesian product
 *   late_files ─┼─> describe[file]                BashOperator.partial().expandKwargs(): one option object each
 *               └─> label[file]  ──> manifest     task().expandArgs() over files.zip(checksums)
 *
 * `files.map(...)`, `files.concat(late)` and `files.zip(checksums)` run in the worker of the task that takes
 * them (the scheduler only counts elements). Everything is local and deterministic: no network.
 */
import { BashOperator, DAG, task } from 'airflow-ts';

const dag = new DAG({
  dagId: 'example_mapped_operators',
  description: 'Classic operators mapped over run-time lists (partial/expand, expandKwargs) and outputs transformed with map/zip/concat',
  schedule: null, // manual runs only
  tags: ['example'],
});

const files = task({ dag }, function list_files(): string[] {
  return ['orders.csv', 'customers.csv', 'events.json'];
})();

const late = task({ dag }, function late_files(): string[] {
  return ['refunds.csv'];
})();

/** One instance per (algorithm, file): all sha256 digests first, then all md5 ones (the first option varies slowest). */
const checksum = BashOperator.partial({ dag, taskId: 'checksum', appendEnv: true }).expand({
  bashCommand: ['printf %s "$FILE" | sha256sum | cut -c1-12', 'printf %s "$FILE" | md5sum | cut -c1-12'],
  env: files.map((file) => ({ FILE: file })),
});

/** One instance per option object, made from every file, late ones included; templates in mapped values are rendered. */
BashOperator.partial({ dag, taskId: 'describe' }).expandKwargs(
  files.concat(late).map((file) => ({ bashCommand: `echo "{{ ds }}: ${file} is instance {{ ti.map_index }}"` })),
);

/** Called with whole argument lists: (file, its sha256 digest), paired by zip (as long as the shorter list). */
const label = task({ dag }, function label(file: string, digest: unknown): string {
  return `${file}=${String(digest)}`;
});

const manifest = task({ dag }, function manifest(labels: string[]) {
  return { files: labels.length, labels };
});

manifest(label.expandArgs(files.zip(checksum.output)));

export default dag;
