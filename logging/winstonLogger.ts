import winston from 'winston';
import type { LogScope, Logger } from '../core/logger.ts';

/**
 * The one place winston is used. Lines look like
 * `2026-01-01T00:00:00.000Z INFO [scheduler] message key=value`, and go to
 * stderr so that command output on stdout (tables, JSON) stays clean.
 */
export function createLogger(level: string, scope: LogScope = {}): Logger {
  const base = winston.createLogger({
    level,
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.printf(({ timestamp, level: lvl, message, component, ...meta }) => {
        const extras = Object.entries(meta)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
        return `${String(timestamp)} ${lvl.toUpperCase()} [${String(component ?? 'airflow')}] ${String(message)}${extras ? ` ${extras}` : ''}`;
      }),
    ),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
  return wrap(base.child(scope));
}

function wrap(w: winston.Logger): Logger {
  return {
    debug: (m, meta) => void w.debug(m, meta),
    info: (m, meta) => void w.info(m, meta),
    warn: (m, meta) => void w.warn(m, meta),
    error: (m, meta) => void w.error(m, meta),
    child: (scope) => wrap(w.child(scope)),
  };
}
