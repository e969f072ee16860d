import type { ResolvedConfig } from '../config/schema.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Executor } from './base.ts';
import { KubernetesExecutor } from './kubernetes/kubernetesExecutor.ts';
import { LocalExecutor } from './localExecutor.ts';

/**
 * The executor named by core.executor. Task processes get the database URL
 * and config file of this process, so they use the same database even when it
 * is the embedded one.
 */
export function createExecutor(config: ResolvedConfig, databaseUrl: string, logger: Logger): Executor {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AIRFLOW_HOME: config.airflowHome,
    AIRFLOW__DATABASE__URL: databaseUrl,
    ...(config.configFile ? { AIRFLOW_CONFIG: config.configFile } : {}),
  };
  const scoped = logger.child({ component: 'executor' });
  const newProcessPerTask = config.core.executeTasksNewProcess;
  switch (config.core.executor) {
    case 'SequentialExecutor':
      // One task at a time, like Airflow's; warm unless core.executeTasksNewProcess asks for Airflow's fresh process per task.
      return new LocalExecutor({ name: 'SequentialExecutor', parallelism: 1, newProcessPerTask, env, databaseUrl, logger: scoped });
    case 'LocalExecutor':
      return new LocalExecutor({ parallelism: config.core.parallelism, newProcessPerTask, env, databaseUrl, logger: scoped });
    case 'KubernetesExecutor':
      // Pods get their environment from the pod template and kubernetes.env, never this process's.
      return new KubernetesExecutor(config, scoped);
    default:
      throw new ConfigError('core.executor', config.core.executor, 'SequentialExecutor, LocalExecutor or KubernetesExecutor');
  }
}
