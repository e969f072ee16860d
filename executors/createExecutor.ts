import type { ResolvedConfig } from '../config/schema.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Executor } from './base.ts';
import { SequentialExecutor } from './sequentialExecutor.ts';

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
  switch (config.core.executor) {
    case 'SequentialExecutor':
      return new SequentialExecutor({ env, logger: scoped });
    default:
      throw new ConfigError('core.executor', config.core.executor, 'SequentialExecutor (the LocalExecutor and KubernetesExecutor are not available in this version yet)');
  }
}
