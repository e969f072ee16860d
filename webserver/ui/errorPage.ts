import type { ErrorRequestHandler } from 'express';
import type { Logger } from '../../core/logger.ts';
import { isDatabaseUnavailable } from '../../db/pgErrors.ts';

/**
 * A page that failed because the database is unavailable: 503 with Retry-After
 * (it comes back by itself, ADR 0009). A bare page, since the layout needs the
 * session, which is what failed. Other errors go on to the error page.
 */
export function databaseUnavailablePage(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (!isDatabaseUnavailable(error)) return next(error);
    logger.warn(`${req.method} ${req.originalUrl}: the database is unavailable (${error instanceof Error ? error.message : String(error)})`);
    res
      .status(503)
      .set('Retry-After', '5')
      .type('html')
      .send(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Database unavailable</title></head><body><h1>Database unavailable</h1><p>The metadata database cannot be reached right now; try again in a few seconds.</p></body></html>',
      );
  };
}
