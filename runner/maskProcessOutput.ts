import { secretsMasker } from '../core/secretsMasker.ts';

/**
 * Everything a task process prints on stdout and stderr (task code's console.log included) passes the
 * secrets masker: that output reaches the scheduler (a dead worker's last output goes into the try's log)
 * and, in a Kubernetes pod, the pod log the UI shows. Called once, first thing, by task processes only.
 */
export function maskProcessOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) =>
      write(
        typeof chunk === 'string' ? secretsMasker.mask(chunk) : chunk instanceof Uint8Array ? secretsMasker.mask(Buffer.from(chunk).toString('utf8')) : chunk,
        ...rest,
      )) as typeof stream.write;
  }
}
