import { exitWhenParentDies, refuseSignalsToParent } from '../../core/parentGuard.ts';
import { importDagFile } from './importDagFile.ts';
import type { ParsedFile } from './parseResult.ts';

/**
 * Entry of a DAG-file parser child process (started by DagFileParser through
 * bin/run-ts.js). It imports the files the parent sends one at a time over
 * IPC and answers with each result. The parent owns timeouts: a file that
 * hangs or loops forever gets this process killed.
 */
export type ParserRequest = { type: 'parse'; file: string } | { type: 'exit' };
export type ParserReply = { type: 'ready' } | { type: 'result'; result: ParsedFile };

if (!process.send) {
  console.error('parserChild must be started with an IPC channel');
  process.exit(2);
}

const send = (reply: ParserReply) => new Promise<void>((resolve) => process.send!(reply, undefined, {}, () => resolve()));

// The scheduler died (even kill -9): a parser must not outlive it.
process.on('disconnect', () => process.exit(0));
exitWhenParentDies();
// A DAG file must not be able to stop the scheduler (issue 12; ADR 0012).
refuseSignalsToParent();

process.on('message', (request: ParserRequest) => {
  if (request.type === 'exit') process.exit(0);
  void importDagFile(request.file).then((result) => send({ type: 'result', result }));
});

// Errors escaping user code after its import (timers, rejected promises) must
// not end this process silently: the parent would see an unexplained crash.
process.on('unhandledRejection', (reason) => console.error('unhandled rejection in DAG file:', reason));
process.on('uncaughtException', (error) => console.error('uncaught exception in DAG file:', error));

await send({ type: 'ready' });
