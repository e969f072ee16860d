/**
 * The logging interface every component receives. Components never import
 * winston: they get a Logger (scoped with `child`) so tests can capture
 * entries and assert on fields.
 */
export interface LogScope {
  component?: string;
  dagId?: string;
  runId?: string;
  taskId?: string;
  tryNumber?: number;
  file?: string;
}

export type LogMeta = Record<string, unknown>;

export interface Logger {
  debug(message: string, meta?: LogMeta): void;
  info(message: string, meta?: LogMeta): void;
  warn(message: string, meta?: LogMeta): void;
  error(message: string, meta?: LogMeta): void;
  child(scope: LogScope): Logger;
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  meta: LogMeta;
}

/** A Logger that keeps entries in memory, for tests and for quiet CLI runs. */
export function memoryLogger(entries: LogEntry[] = [], scope: LogScope = {}): Logger & { entries: LogEntry[] } {
  const log =
    (level: LogEntry['level']) =>
    (message: string, meta: LogMeta = {}) => {
      entries.push({ level, message, meta: { ...scope, ...meta } });
    };
  return {
    entries,
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (more) => memoryLogger(entries, { ...scope, ...more }),
  };
}
