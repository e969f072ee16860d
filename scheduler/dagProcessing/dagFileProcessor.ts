import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import chokidar, { type FSWatcher } from 'chokidar';
import type { Knex } from 'knex';
import type { Logger } from '../../core/logger.ts';
import { recordFileRemoved, recordImportError, recordMissingFiles, recordParsedFile } from '../../db/dagFileRecords.ts';
import type { DagFileParser } from './dagFileParser.ts';
import { isCandidateFile, listDagFiles, looksLikeDagFile } from './listDagFiles.ts';
import type { ParsedFile } from './parseResult.ts';

export interface FileOutcome {
  file: string;
  kind: 'parsed' | 'import_error' | 'removed';
  dagIds: string[];
  /** DAG ids whose serialized form was (re)written. */
  changed: string[];
  message: string | null;
}

export interface DagFileProcessorOptions {
  knex: Knex;
  /** Folders to scan: the dags folder, plus the bundled examples when loadExamples is on. */
  folders: string[];
  parser: DagFileParser;
  logger: Logger;
  pausedAtCreation: boolean;
  catchupByDefault: boolean;
  safeMode: boolean;
  /** Full rescan period, the backstop for missed file-system events. */
  rescanIntervalMs: number;
  now?: () => Date;
}

/**
 * Keeps the database in step with the DAG files: a full scan at start and
 * every `rescanIntervalMs`, and in between chokidar events for added, changed
 * and deleted files. Work is serialised: files that change while a batch is
 * being parsed are collected and parsed in the next batch. Emits 'processed'
 * with a FileOutcome per file.
 */
export class DagFileProcessor extends EventEmitter<{ processed: [FileOutcome] }> {
  private watcher: FSWatcher | null = null;
  private rescanTimer: NodeJS.Timeout | null = null;
  private readonly pending = new Set<string>();
  private fullScanPending = false;
  private stopping = false;
  private running: Promise<void> | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private readonly now: () => Date;

  constructor(private readonly options: DagFileProcessorOptions) {
    super();
    this.now = options.now ?? (() => new Date());
  }

  /** Parses every DAG file once and records the results; removes what vanished. */
  async processAll(): Promise<FileOutcome[]> {
    const outcomes: FileOutcome[] = [];
    const files = this.options.folders.flatMap((folder) => listDagFiles(folder));
    await this.processFiles(files, outcomes);
    // Stopped mid-scan: the files not reached are not missing.
    if (this.stopping) return outcomes;
    const missing = await recordMissingFiles(
      this.options.knex,
      this.options.folders,
      files.filter((f) => outcomes.some((o) => o.file === f && o.kind !== 'removed')),
    );
    for (const file of missing) this.report({ file, kind: 'removed', dagIds: [], changed: [], message: null }, outcomes);
    return outcomes;
  }

  /**
   * Starts watching: file events and periodic rescans, and a first full scan
   * that runs in the background. It does not wait for that scan: DAGs
   * already serialized in the database are scheduled meanwhile, so 100 slow
   * files do not hold up the scheduler (compare `processAll()`).
   */
  async start(): Promise<void> {
    this.options.parser.warmUp();
    this.watcher = chokidar.watch(this.options.folders, {
      ignoreInitial: true,
      // Judged on the path inside the dags folder: the folder itself may live under a dot-folder (~/.airflow/dags).
      ignored: (p) => /(^|[/\\])(\.(?!airflowignore$)[^/\\]+|node_modules)([/\\]|$)/.test(this.relativeToFolder(p)),
    });
    this.watcher.on('all', (event, file) => {
      if (event === 'unlinkDir' || (event !== 'addDir' && path.basename(file) === '.airflowignore')) this.fullScanPending = true;
      else if (isCandidateFile(file)) this.pending.add(file);
      else return;
      this.schedule();
    });
    this.watcher.on('error', (error) => this.options.logger.warn('DAG folder watcher error', { error: String(error) }));
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
    this.rescanTimer = setInterval(() => {
      this.fullScanPending = true;
      this.schedule();
    }, this.options.rescanIntervalMs);
    this.rescanTimer.unref();
    this.fullScanPending = true;
    this.schedule();
  }

  private relativeToFolder(file: string): string {
    const folder = this.options.folders.find((f) => file === f || file.startsWith(`${f}${path.sep}`));
    return folder ? path.relative(folder, file) : file;
  }

  /** Stops watching; a scan in progress is abandoned (it resumes at the next start). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    if (this.debounce) clearTimeout(this.debounce);
    await this.watcher?.close();
    this.watcher = null;
    await this.options.parser.close();
    await this.running;
  }

  /** Coalesces bursts of events (an editor's save is often several) into one batch. */
  private schedule(): void {
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = null;
      this.running ??= this.drain().finally(() => {
        this.running = null;
        if (this.pending.size > 0 || this.fullScanPending) this.schedule();
      });
    }, 20);
  }

  private async drain(): Promise<void> {
    while ((this.pending.size > 0 || this.fullScanPending) && this.watcher) {
      try {
        if (this.fullScanPending) {
          this.fullScanPending = false;
          this.pending.clear();
          await this.processAll();
        } else {
          const files = [...this.pending];
          this.pending.clear();
          // A changed helper module can change the DAGs that import it: rescan them all.
          if (await this.processFiles(files, [])) this.fullScanPending = true;
        }
      } catch (error) {
        // A database outage must not stop the watcher; the next event or rescan retries. (No 'error'
        // event: with nobody listening, emitting one threw and took the scheduler down.)
        this.options.logger.error('processing DAG files failed', { error: String(error) });
      }
    }
  }

  /** Parses and records `files`; returns whether any of them was a non-DAG (helper) file. */
  private async processFiles(files: string[], outcomes: FileOutcome[]): Promise<boolean> {
    const { knex, safeMode } = this.options;
    const sources = new Map<string, string>();
    const toParse: string[] = [];
    let helperChanged = false;
    for (const file of files) {
      let source: string;
      try {
        source = readFileSync(file, 'utf8');
      } catch {
        await recordFileRemoved(knex, file);
        this.report({ file, kind: 'removed', dagIds: [], changed: [], message: null }, outcomes);
        continue;
      }
      if (safeMode && !looksLikeDagFile(source)) {
        helperChanged = true;
        continue;
      }
      sources.set(file, source);
      toParse.push(file);
    }
    await this.options.parser.parse(toParse, (result) => this.record(result, sources.get(result.file) ?? '', outcomes));
    return helperChanged;
  }

  private async record(result: ParsedFile, source: string, outcomes: FileOutcome[]): Promise<void> {
    const { knex, logger } = this.options;
    const parsedAt = this.now();
    const dagIds = result.dags.map((d) => d.dagId);
    if (result.problem) {
      await recordImportError(knex, { file: result.file, source, parsedAt, problem: result.problem });
      logger.warn(`import error in ${result.file}: ${result.problem.message}`, { file: result.file });
      this.report({ file: result.file, kind: 'import_error', dagIds, changed: [], message: result.problem.message }, outcomes);
      return;
    }
    const { changed, problem } = await recordParsedFile(knex, {
      file: result.file,
      dags: result.dags,
      source,
      parsedAt,
      pausedAtCreation: this.options.pausedAtCreation,
      catchupByDefault: this.options.catchupByDefault,
    });
    if (problem) {
      logger.warn(`import error in ${result.file}: ${problem.message}`, { file: result.file });
      this.report({ file: result.file, kind: 'import_error', dagIds, changed, message: problem.message }, outcomes);
      return;
    }
    logger.debug(`parsed ${result.file} in ${result.durationMs.toFixed(0)} ms`, { dagIds, changed });
    this.report({ file: result.file, kind: 'parsed', dagIds, changed, message: null }, outcomes);
  }

  private report(outcome: FileOutcome, outcomes: FileOutcome[]): void {
    outcomes.push(outcome);
    this.emit('processed', outcome);
  }
}
