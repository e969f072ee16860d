import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../core/logger.ts';
import type { ParserReply, ParserRequest } from './parserChild.ts';
import type { ParsedFile } from './parseResult.ts';

const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.js', import.meta.url));
const CHILD = fileURLToPath(new URL('./parserChild.ts', import.meta.url));

export interface DagFileParserOptions {
  /** How long one file may take to import (Airflow's dagbag_import_timeout). */
  timeoutMs: number;
  /** Files parsed at once, each in its own process. */
  concurrency: number;
  logger: Logger;
}

/**
 * Parses DAG files in child processes, `concurrency` at a time.
 *
 * Each batch uses fresh processes, so a re-parsed file and the helper modules
 * it imports are read anew (ES modules cannot be unloaded from a process).
 * One warm process is kept ready so that a single changed file is parsed
 * without paying Node's start-up. A file that throws, hangs, loops forever or
 * kills its process yields a ParsedFile with a `problem`; the others go on.
 */
export class DagFileParser {
  private spare: Promise<ParserProcess> | null = null;
  private readonly busy = new Set<ParserProcess>();
  private closed = false;

  constructor(private readonly options: DagFileParserOptions) {}

  /** Parses `files`, calling `onResult` for each as soon as it is done (in completion order). */
  async parse(files: readonly string[], onResult: (result: ParsedFile) => Promise<void> | void): Promise<void> {
    const queue = [...files];
    const worker = async () => {
      let proc: ParserProcess | null = null;
      try {
        while (queue.length > 0 && !this.closed) {
          const file = queue.shift()!;
          if (!proc?.alive) proc = await this.takeProcess();
          if (this.closed) break;
          this.busy.add(proc);
          const result = await proc.parse(file, this.options.timeoutMs);
          this.busy.delete(proc);
          // Closed mid-file: the process was killed, which says nothing about the file.
          if (this.closed) break;
          await onResult(result);
        }
      } finally {
        proc?.exit();
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, queue.length) }, worker));
    if (!this.closed) this.spare ??= this.spawnProcess();
  }

  /** Starts the warm process now, so the first parse does not wait for it. */
  warmUp(): void {
    this.spare ??= this.spawnProcess();
  }

  /** Stops parsing: files being imported are abandoned (their processes killed) and not reported. */
  async close(): Promise<void> {
    this.closed = true;
    for (const proc of this.busy) proc.kill();
    this.busy.clear();
    const spare = this.spare;
    this.spare = null;
    (await spare?.catch(() => null))?.exit();
  }

  private takeProcess(): Promise<ParserProcess> {
    const spare = this.spare;
    this.spare = null;
    return spare ?? this.spawnProcess();
  }

  private spawnProcess(): Promise<ParserProcess> {
    return ParserProcess.start(this.options.logger);
  }
}

/** One parser child process: one file at a time, killed on timeout. */
class ParserProcess {
  alive = true;
  private output = '';
  private pending: ((reply: ParserReply | null) => void) | null = null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly logger: Logger,
  ) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-4_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('message', (reply: ParserReply) => this.pending?.(reply));
    child.on('exit', () => {
      this.alive = false;
      this.pending?.(null);
    });
  }

  static start(logger: Logger): Promise<ParserProcess> {
    // Its own session and process group (detached): a DAG file signalling its group, or a terminal's
    // Ctrl-C aimed at a parser, does not reach the scheduler (ADR 0012).
    const child = spawn(process.execPath, [RUN_TS, CHILD], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
    const proc = new ParserProcess(child, logger);
    return new Promise((resolve, reject) => {
      proc.pending = (reply) => {
        proc.pending = null;
        if (reply?.type === 'ready') resolve(proc);
        else reject(new Error(`DAG file parser process failed to start:\n${proc.output}`));
      };
    });
  }

  parse(file: string, timeoutMs: number): Promise<ParsedFile> {
    const started = performance.now();
    const failed = (message: string): ParsedFile => ({
      file,
      dags: [],
      problem: { message, line: null, stacktrace: `${message}\n\nOutput of the parser process:\n${this.output || '(none)'}` },
      durationMs: performance.now() - started,
    });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = null;
        this.kill();
        resolve(
          failed(
            `Importing ${file} took longer than ${timeoutMs / 1000} s (core.dagbagImportTimeout): look for an endless loop or a blocking call at the top level of the file`,
          ),
        );
      }, timeoutMs);
      this.pending = (reply) => {
        clearTimeout(timer);
        this.pending = null;
        if (reply?.type === 'result') resolve(reply.result);
        else
          resolve(
            failed(
              `The parser process exited (code ${this.child.exitCode ?? this.child.signalCode}) while importing ${file}: does the file call process.exit()?`,
            ),
          );
      };
      this.output = '';
      this.send({ type: 'parse', file });
    });
  }

  exit(): void {
    if (this.alive) this.send({ type: 'exit' });
  }

  kill(): void {
    this.alive = false;
    try {
      // Its whole process group (it leads one, being detached): what the DAG file started dies with it.
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL'); // already gone, or never started
    }
    this.logger.debug('killed DAG parser process', { pid: this.child.pid });
  }

  private send(request: ParserRequest): void {
    if (this.child.connected) this.child.send(request);
  }
}
