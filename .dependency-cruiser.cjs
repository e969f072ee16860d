// The layer rules: which folder may import which. Written down here once; docs/architecture.md ("Layers") and
// ADR 0014 explain them, `npm run lint` enforces them (depcruise), test/lint/layers.test.ts proves a wrong-way
// import fails. Type-only imports count too: a type pulls its module's concepts into the importer.
//
//   core ← config ← db ← services ← scheduler / executors / runner ← webserver / cli
//   logging (task logs: file, reader, pod source) and kubernetes (API client, pod identity) sit beside services;
//   operators (imported by DAG files) sit on core and logging.
//
// Each folder lists what it MAY import (besides itself and npm/node packages); any other folder of ours is a
// violation of that folder's rule. bench/, test/, bin/ and the top-level config files may import anything.

/** The folders and module that run in production (the package's code, without its tests and tools). */
const PRODUCTION = [
  'core',
  'config',
  'db',
  'services',
  'logging',
  'kubernetes',
  'operators',
  'scheduler',
  'executors',
  'runner',
  'triggerer',
  'webserver',
  'cli',
  'index\\.ts',
];

/** Our source folders and top-level modules: an import of any of them is checked against the lists below. */
const OURS = [...PRODUCTION, 'dags', 'bench', 'test', 'bin'];

const under = (folders) => `^(${folders.join('|')})(/|$)`;

/**
 * A rule that lets files under `folder` import only `allowed` (and themselves).
 * `exceptions`: single modules also allowed, each with its reason next to it.
 */
function layer(name, folder, allowed, comment, exceptions = []) {
  return {
    name,
    comment,
    severity: 'error',
    from: { path: under([folder]) },
    to: { path: under(OURS), pathNot: [under([folder, ...allowed]), ...exceptions] },
  };
}

/** bin/resolve-airflow-ts.js resolves `import 'airflow-ts'` for DAG files; it is plain JS because the loader hook needs it before tsx. */
const AIRFLOW_TS_RESOLVER = '^bin/resolve-airflow-ts\\.js$';

module.exports = {
  forbidden: [
    layer(
      'core-imports-only-core',
      'core',
      [],
      "core is what DAG files and every process share (DAG, operators' base, states, timetables, ti_deps): it knows no configuration, database or process.",
    ),
    layer('config-imports-only-core', 'config', ['core'], "config resolves airflow.config.ts and the environment; only core's errors and types are below it."),
    layer('db-imports-core-config', 'db', ['core', 'config'], 'db holds every SQL statement and row type; it serves everyone above and knows none of them.'),
    layer(
      'services-import-below',
      'services',
      ['core', 'config', 'db'],
      'services are the operations the webserver and the CLI share (trigger, clear, mark); they sit on db.',
    ),
    layer(
      'kubernetes-imports-core-config-db',
      'kubernetes',
      ['core', 'config', 'db'],
      "kubernetes holds the API client and how a try's pod is named and labelled (Airflow's cncf.kubernetes kube_client and pod helpers), shared by the KubernetesExecutor and logging's pod log source.",
    ),
    layer(
      'logging-imports-core-config-db-kubernetes',
      'logging',
      ['core', 'config', 'db', 'kubernetes'],
      'logging writes, reads and fetches task logs (file, pod) for every process (runner, executors, scheduler, webserver); it must stay below all of them.',
    ),
    layer(
      'operators-import-core-logging',
      'operators',
      ['core', 'logging'],
      'operators are imported by DAG files (in parser children and the runner): they must not drag a database, scheduler or runner into a DAG file.',
    ),
    layer(
      'scheduler-imports-executors-not-runner',
      'scheduler',
      ['core', 'config', 'db', 'services', 'logging', 'executors'],
      'the scheduler hands work to executors and never runs user code (ADR 0001): the runner is reached only through an executor.',
      [AIRFLOW_TS_RESOLVER],
    ),
    layer(
      'executors-import-runner-not-scheduler',
      'executors',
      ['core', 'config', 'db', 'services', 'logging', 'kubernetes', 'runner'],
      'an executor starts runners (worker protocol, tasks run) and reports events; it never calls back into the scheduler that owns it.',
    ),
    layer(
      'runner-imports-below-executors',
      'runner',
      ['core', 'config', 'db', 'services', 'logging'],
      'the task runner runs inside whatever an executor started: it must not import executors or the scheduler (their shared types live in db/ and runner/workerProtocol.ts).',
      [AIRFLOW_TS_RESOLVER],
    ),
    layer(
      'triggerer-imports-below-and-triggers',
      'triggerer',
      ['core', 'config', 'db', 'services', 'logging', 'operators'],
      'the triggerer runs the trigger classes (operators/triggers/) and resumes tasks through db/; it never imports the scheduler, executors, runner or DAG files.',
    ),
    layer(
      'webserver-imports-services-not-daemons',
      'webserver',
      ['core', 'config', 'db', 'services', 'logging'],
      'the webserver reads the database and changes it through services, and task logs through logging; it never imports the scheduler, executors, runner or DAG files.',
    ),
    layer(
      'cli-imports-production-code',
      'cli',
      ['core', 'config', 'db', 'services', 'logging', 'kubernetes', 'operators', 'scheduler', 'executors', 'runner', 'triggerer', 'webserver'],
      'the CLI starts every daemon and command; only tests, benchmarks and example DAGs are off limits to it.',
    ),
    layer('dags-import-the-public-api', 'dags', [], "example DAG files use only `airflow-ts` (index.ts), as a user's DAG file must."),
    {
      name: 'public-api-exports-core-operators-config',
      comment: "index.ts is what `import 'airflow-ts'` gives a DAG file or airflow.config.ts: the DAG vocabulary, operators and defineConfig.",
      severity: 'error',
      from: { path: '^index\\.ts$' },
      to: { path: under(OURS), pathNot: under(['core', 'operators', 'config']) },
    },
    {
      name: 'ui-pages-not-api-routes',
      comment:
        'UI pages and API routes are siblings over services/db; what both need lives in webserver/api/schemas/ (request schemas), webserver/api/mappers/ (JSON) or below.',
      severity: 'error',
      from: { path: '^webserver/ui/' },
      to: { path: '^webserver/api/routes/' },
    },
    {
      name: 'no-runtime-cycle',
      comment: 'a runtime import cycle makes load order matter (a module sees another half-initialised); type-only imports are erased and may cycle.',
      severity: 'error',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'], viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'production-not-dev-dependencies',
      comment: 'what runs in production must not need a devDependency (npm install --omit=dev leaves them out).',
      severity: 'error',
      from: {
        path: under(PRODUCTION),
      },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|test/fixtures|bench/results)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
