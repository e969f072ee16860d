import { open, stat } from 'node:fs/promises';
import type { ResolvedConfig } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import { taskLogFile } from './fileTaskHandler.ts';
import { readPodLog, type TryKey } from './podLogSource.ts';

/**
 * Airflow's TaskLogReader: a try's log for the REST API's logs endpoint and the web UI's live log, read in
 * pieces from the log file the runner writes (fileTaskHandler.ts) or, under the KubernetesExecutor, from the
 * try's pod (podLogSource.ts). A continuation token carries the byte offset to read from, so a follower gets
 * only what was written since its last read.
 */

/** Without full content, one read returns at most this much of the log; the token fetches the rest. */
export const LOG_CHUNK_BYTES = 1024 * 1024;

/** The continuation token: the byte offset to read from, base64url-encoded (opaque to clients). */
export const encodeLogToken = (offset: number): string => Buffer.from(String(offset)).toString('base64url');

/** The offset in a token from encodeLogToken (0 for none), or null when the text is not such a token. */
export function decodeLogToken(token: string | undefined): number | null {
  if (token === undefined || token === '') return 0;
  const text = /^[A-Za-z0-9_-]{1,24}$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  return /^\d{1,15}$/.test(text) ? Number(text) : null;
}

/** Length of `buffer` without a trailing incomplete UTF-8 sequence (a line the runner is writing right now). */
function completeUtf8Length(buffer: Buffer): number {
  let lead = buffer.length - 1;
  while (lead >= 0 && buffer.length - lead < 4 && (buffer[lead]! & 0xc0) === 0x80) lead--;
  if (lead < 0) return buffer.length;
  const byte = buffer[lead]!;
  const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
  return lead + needed > buffer.length ? lead : buffer.length;
}

/** The log bytes from `offset` (up to `maxBytes`) as text, and the offset after them; a missing file reads as empty. */
async function readTaskLog(file: string, offset: number, maxBytes: number = LOG_CHUNK_BYTES): Promise<{ content: string; next: number }> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { content: '', next: offset };
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const start = Math.min(offset, size);
    const buffer = Buffer.alloc(Math.min(size - start, maxBytes));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    const length = completeUtf8Length(buffer.subarray(0, bytesRead));
    return { content: buffer.subarray(0, length).toString('utf8'), next: start + length };
  } finally {
    await handle.close();
  }
}

/** The same read over a log held in memory (a pod log fetched from Kubernetes). */
function readLogText(text: string, offset: number, maxBytes: number = LOG_CHUNK_BYTES): { content: string; next: number } {
  const bytes = Buffer.from(text, 'utf8');
  const start = Math.min(offset, bytes.length);
  const chunk = bytes.subarray(start, start + Math.min(bytes.length - start, maxBytes));
  const length = completeUtf8Length(chunk);
  return { content: chunk.subarray(0, length).toString('utf8'), next: start + length };
}

/**
 * One try's log for the API and the UI, from `offset` on: the log file when
 * it exists; with the KubernetesExecutor and no file here (the pod writes to
 * a folder this process does not share), the log of the try's pod, running
 * or kept. Null when the ids would lead outside the log folder.
 */
export async function readTryLog(
  config: ResolvedConfig,
  logger: Logger,
  ti: TryKey,
  offset: number,
  maxBytes: number = LOG_CHUNK_BYTES,
): Promise<{ content: string; next: number } | null> {
  const file = taskLogFile(config.logging.baseLogFolder, ti);
  if (!file) return null;
  if (config.core.executor !== 'KubernetesExecutor' || (await exists(file))) return readTaskLog(file, offset, maxBytes);
  try {
    const podLog = await readPodLog(config, ti);
    if (podLog !== null) return readLogText(podLog, offset, maxBytes);
  } catch (error) {
    logger.warn(`could not read the pod log of ${ti.dagId}.${ti.taskId} (${ti.runId}, try ${ti.tryNumber}): ${(error as Error).message}`);
  }
  return { content: '', next: offset };
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
