import { stat } from 'node:fs/promises';
import type { ResolvedConfig } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import { readPodLog, type TryKey } from '../executors/kubernetes/podLogs.ts';
import { LOG_CHUNK_BYTES, readLogText, readTaskLog, taskLogFile } from '../logging/readTaskLog.ts';

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
