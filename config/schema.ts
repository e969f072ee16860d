import { z } from 'zod';

/**
 * The config schema: every section and key, its type, default and meaning.
 * Keys are camelCase here and snake_case in env vars and `airflow config`
 * (core.dagsFolder <-> AIRFLOW__CORE__DAGS_FOLDER), like Airflow's airflow.cfg.
 * Units follow Airflow's (seconds where Airflow uses seconds) so that values
 * carried over from an airflow.cfg keep their meaning.
 */

// Env vars arrive as strings: accept 'true'/'false'/'1'/'0' for booleans.
const bool = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const s = v.trim().toLowerCase();
    return s === 'true' || s === '1' ? true : s === 'false' || s === '0' ? false : v;
  },
  z.boolean({ error: 'true or false' }),
);

const int = (min: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
    z
      .number({ error: `an integer >= ${min}` })
      .int({ error: `an integer >= ${min}` })
      .min(min, { error: `an integer >= ${min}` }),
  );

const seconds = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
  z.number({ error: 'a number of seconds > 0' }).positive({ error: 'a number of seconds > 0' }),
);

export const EXECUTORS = ['SequentialExecutor', 'LocalExecutor', 'KubernetesExecutor'] as const;
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;

/** Objects and lists arrive from env vars as JSON text. */
const json = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v);
    } catch {
      return v; // the schema then reports what was expected
    }
  }, schema);

/** Kubernetes resource quantities by resource name, e.g. {"cpu": "500m", "memory": "1Gi"}. */
const quantities = z.record(z.string(), z.string({ error: 'an object with requests and/or limits of quantity strings, e.g. {"requests": {"cpu": "500m"}}' }), {
  error: 'an object with requests and/or limits of quantity strings, e.g. {"requests": {"cpu": "500m"}}',
});

const enumOf = <T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `one of ${values.join(', ')}` });

/** Paths may be null in the file to mean "derive from AIRFLOW_HOME". */
const path = z.string({ error: 'a path' }).min(1, { error: 'a non-empty path' });

export const configSchema = z.strictObject({
  core: z
    .strictObject({
      /** Folder scanned for DAG files. @default "$AIRFLOW_HOME/dags" */
      dagsFolder: path.optional(),
      /** Which executor runs task instances. @default "LocalExecutor" */
      executor: enumOf(EXECUTORS).default('LocalExecutor'),
      /** Most task instances running at once across all DAGs. @default 32 */
      parallelism: int(1).default(32),
      /** Most running task instances per DAG, unless the DAG sets maxActiveTasks. @default 16 */
      maxActiveTasksPerDag: int(1).default(16),
      /** Most active runs per DAG, unless the DAG sets maxActiveRuns. @default 16 */
      maxActiveRunsPerDag: int(1).default(16),
      /** New DAGs start paused unless the DAG says isPausedUponCreation: false. @default true */
      dagsArePausedAtCreation: bool.default(true),
      /** Also load the example DAGs shipped with airflow-ts. @default true */
      loadExamples: bool.default(true),
      /** Seconds a DAG file may take to import before it becomes an import error. @default 30 */
      dagbagImportTimeout: seconds.default(30),
      /** Only parse files that mention both "airflow" and "dag" (Airflow's safe mode). @default true */
      dagDiscoverySafeMode: bool.default(true),
      /** Timezone for DAGs that do not set one. @default "UTC" */
      defaultTimezone: z.string().default('UTC'),
      /**
       * Run every task in a fresh process (Airflow's behaviour) instead of warm worker processes that keep
       * the runtime and DAG files loaded. Slower; for tasks that leak or must not share a process. @default false
       */
      executeTasksNewProcess: bool.default(false),
      /**
       * A warm worker process is replaced after this many tasks, bounding what leaky tasks can accumulate. A
       * replacement costs ~1 s of CPU (Node start, TypeScript loader, DAG import): at 500 that was 2 ms per task
       * of a mapped run, more than the task itself. @default 2000
       */
      workerMaxTasks: int(1).default(2000),
      /** Largest XCom value in bytes (as JSON); bigger ones fail the task with a clear error. @default 1048576 */
      xcomMaxSize: int(1).default(1_048_576),
      /** Most task instances one mapped task (expand()) may have; a longer input fails the task. @default 1024 */
      maxMapLength: int(1).default(1024),
      /**
       * Fernet key(s) encrypting connection passwords and extras and variable values in the database;
       * comma-separated to rotate (the first encrypts, all decrypt; then `airflow rotate-fernet-key`).
       * A secret: `config list` and `config get-value` never print it. Empty: the key generated once into
       * $AIRFLOW_HOME/fernet.key (ADR 0008). @default ""
       */
      fernetKey: z.string().default(''),
    })
    .prefault({}),
  database: z
    .strictObject({
      /** postgres:// URL of the metadata database; empty means the embedded Postgres. @default "" */
      url: z.string().default(''),
      /** Port for the embedded Postgres; 0 picks a free one. @default 0 */
      embeddedPort: int(0).default(0),
    })
    .prefault({}),
  scheduler: z
    .strictObject({
      /** DAG files parsed at once, each in its own child process. @default 2 */
      parsingProcesses: int(1).default(2),
      /** Seconds between full rescans of the dags folder (the watcher covers changes in between). @default 300 */
      dagDirListInterval: seconds.default(300),
      /** Seconds between scheduler heartbeats. @default 5 */
      schedulerHeartbeatSec: seconds.default(5),
      /** Catch-up for DAGs that do not set `catchup`. @default true */
      catchupByDefault: bool.default(true),
      /** Seconds between heartbeats of running tasks. @default 5 */
      jobHeartbeatSec: seconds.default(5),
      /** Seconds without a heartbeat after which a running task counts as a zombie and fails its try. @default 300 */
      zombieTaskThreshold: seconds.default(300),
      /** Seconds between checks for task instances queued or running under a scheduler that died (adopted or reset). @default 300 */
      orphanedTasksCheckInterval: seconds.default(300),
      /** Seconds the scheduler loop sleeps when it has nothing to do (events wake it sooner). @default 1 */
      schedulerIdleSleepTime: seconds.default(1),
    })
    .prefault({}),
  triggerer: z
    .strictObject({
      /** Triggers one triggerer runs at once. @default 1000 */
      defaultCapacity: int(1).default(1000),
      /** Seconds between triggerer heartbeats. @default 5 */
      jobHeartbeatSec: seconds.default(5),
      /** Seconds without a heartbeat after which a triggerer counts as gone and its triggers are claimed by another. @default 30 */
      triggererHealthCheckThreshold: seconds.default(30),
    })
    .prefault({}),
  webserver: z
    .strictObject({
      /** Port of the web UI and REST API. @default 8080 */
      port: int(0).default(8080),
      /** Address to bind. @default "0.0.0.0" */
      host: z.string().default('0.0.0.0'),
      /** Key that signs session cookies and CSRF tokens; every webserver host behind one address needs the same. Empty: one is generated once into $AIRFLOW_HOME/webserver_secret_key. @default "" */
      secretKey: z.string().default(''),
      /** PEM certificate file: with sslKey, the webserver serves HTTPS (session cookies get `Secure`, pages upgrade insecure requests). @default "" */
      sslCert: z.string().default(''),
      /** PEM private key file for sslCert. @default "" */
      sslKey: z.string().default(''),
      /** Behind a reverse proxy: trust one hop's X-Forwarded-For/-Proto, for the client address (login rate limits) and TLS (Secure cookies). @default false */
      enableProxyFix: bool.default(false),
    })
    .prefault({}),
  logging: z
    .strictObject({
      /** Log level of the daemons. @default "info" */
      level: enumOf(LOG_LEVELS).default('info'),
      /** Folder for task logs. @default "$AIRFLOW_HOME/logs" */
      baseLogFolder: path.optional(),
    })
    .prefault({}),
  kubernetes: z
    .strictObject({
      /** Namespace for task pods. @default "default" */
      namespace: z.string().min(1, { error: 'a namespace name' }).default('default'),
      /** Image for task pods (overrides the pod template's; required unless the template names one). @default "" */
      workerContainerImage: z.string().default(''),
      /** Image pull policy of task pods: Always, IfNotPresent or Never; empty keeps the template's. @default "" */
      imagePullPolicy: z.enum(['', 'Always', 'IfNotPresent', 'Never'], { error: 'Always, IfNotPresent, Never or empty' }).default(''),
      /** Service account of task pods; empty keeps the template's (or the namespace default). @default "" */
      serviceAccountName: z.string().default(''),
      /** Path to a kubeconfig; empty uses the in-cluster config inside a pod, else ~/.kube/config. @default "" */
      configFile: z.string().default(''),
      /** A YAML pod manifest used as the base of every task pod (Airflow's pod_template_file). @default "" */
      podTemplateFile: z.string().default(''),
      /** Extra environment of task pods, e.g. {"AIRFLOW__DATABASE__URL": "..."} (JSON in the env var). @default {} */
      env: json(z.record(z.string(), z.string({ error: 'an object of name: value strings' }), { error: 'an object of name: value strings' })).default({}),
      /** Resources of the task container, e.g. {"requests": {"cpu": "500m"}, "limits": {"memory": "1Gi"}}. @default {} */
      resources: json(
        z.strictObject({ requests: quantities.optional(), limits: quantities.optional() }, { error: 'an object with requests and/or limits' }),
      ).default({}),
      /** Node selector of task pods. @default {} */
      nodeSelector: json(
        z.record(z.string(), z.string({ error: 'an object of label: value strings' }), { error: 'an object of label: value strings' }),
      ).default({}),
      /** Tolerations of task pods (Kubernetes toleration objects). @default [] */
      tolerations: json(
        z.array(z.record(z.string(), z.unknown(), { error: 'a list of toleration objects' }), { error: 'a list of toleration objects' }),
      ).default([]),
      /** PersistentVolumeClaim holding the DAG files, mounted read-only at core.dagsFolder; empty: none (the image has them). @default "" */
      dagsVolumeClaim: z.string().default(''),
      /** PersistentVolumeClaim for task logs, mounted at logging.baseLogFolder; empty: none. @default "" */
      logsVolumeClaim: z.string().default(''),
      /** Delete pods of finished tasks. @default true */
      deleteWorkerPods: bool.default(true),
      /** Also delete pods of failed tasks (otherwise they are kept for inspection). @default false */
      deleteWorkerPodsOnFailure: bool.default(false),
      /** Seconds a pod may stay Pending (e.g. unschedulable) before its try fails. @default 300 */
      workerPodsPendingTimeout: seconds.default(300),
    })
    .prefault({}),
});

/** What a user writes in airflow.config.ts: every section and key optional. */
export type AirflowConfig = { [S in keyof z.input<typeof configSchema>]?: Partial<NonNullable<z.input<typeof configSchema>[S]>> };

type Parsed = z.output<typeof configSchema>;

/** The config after defaults, file, env and flags, with every path absolute. */
export type ResolvedConfig = Readonly<{
  airflowHome: string;
  configFile: string | null;
  core: Readonly<Parsed['core'] & { dagsFolder: string }>;
  database: Readonly<Parsed['database']>;
  scheduler: Readonly<Parsed['scheduler']>;
  triggerer: Readonly<Parsed['triggerer']>;
  webserver: Readonly<Parsed['webserver']>;
  logging: Readonly<Parsed['logging'] & { baseLogFolder: string }>;
  kubernetes: Readonly<Parsed['kubernetes']>;
}>;

export type SectionName = keyof Parsed;
export const SECTIONS = Object.keys(configSchema.shape) as SectionName[];

/** The camelCase keys of one section, from the schema. */
export function sectionKeys(section: SectionName): string[] {
  const sectionSchema = configSchema.shape[section];
  // `.default({})` wraps the object; unwrap to reach its shape.
  const inner = (sectionSchema as unknown as { def: { innerType: { shape: Record<string, unknown> } } }).def.innerType;
  return Object.keys(inner.shape);
}
