import { childProcessEnv } from '../config/childProcessEnv.ts';
import type { ResolvedConfig } from '../config/schema.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { databaseIdentity } from '../runner/tryProcesses.ts';
import type { Executor } from './base.ts';
import { KubernetesExecutor } from './kubernetes/kubernetesExecutor.ts';
import { LocalExecutor } from './localExecutor.ts';

/**
 * The executor named by core.executor. Task processes get this process's home, config file, database and
 * Fernet key (config/childProcessEnv.ts).
 */
export function createExecutor(config: ResolvedConfig, databaseUrl: string | null, logger: Logger): Executor {
  const env = childProcessEnv(config, databaseUrl);
  // What the task processes' try marks name (runner/tryProcesses.ts): the same value they compute.
  const database = databaseIdentity({ database: { url: databaseUrl ?? '' }, airflowHome: config.airflowHome });
  const scoped = logger.child({ component: 'executor' });
  const newProcessPerTask = config.core.executeTasksNewProcess;
  const zombieThresholdMs = config.scheduler.zombieTaskThreshold * 1000;
  switch (config.core.executor) {
    case 'SequentialExecutor':
      // One task at a time, like Airflow's; warm unless core.executeTasksNewProcess asks for Airflow's fresh process per task.
      return new LocalExecutor({
        name: 'SequentialExecutor',
        parallelism: 1,
        newProcessPerTask,
        env,
        databaseUrl: database,
        zombieThresholdMs,
        logger: scoped,
      });
    case 'LocalExecutor':
      return new LocalExecutor({ parallelism: config.core.parallelism, newProcessPerTask, env, databaseUrl: database, zombieThresholdMs, logger: scoped });
    case 'KubernetesExecutor':
      // Pods get their environment from the pod template and kubernetes.env, never this process's.
      return new KubernetesExecutor(config, scoped);
    default:
      throw new ConfigError('core.executor', config.core.executor, 'SequentialExecutor, LocalExecutor or KubernetesExecutor');
  }
}
