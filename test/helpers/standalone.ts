import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AIRFLOW_BIN } from './cli.ts';

/**
 * Starts `airflow standalone` (what `npm start` runs) in `home` on a free port, waits for its ready
 * banner, and returns the printed URL and admin password and a Ctrl-C stopper resolving to the exit code.
 */
export async function startStandalone(home: string): Promise<{ url: string; password: string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [AIRFLOW_BIN, 'standalone'], {
    cwd: mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-cwd-')),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, AIRFLOW_HOME: home, AIRFLOW__WEBSERVER__PORT: '0', AIRFLOW__WEBSERVER__HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = await new Promise<{ url: string; password: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`standalone did not get ready:\n${output}`)), 90_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /standalone is ready: (http:\/\/\S+)/.exec(output)?.[1];
      const password = /password: (\S+)/.exec(output)?.[1];
      if (url && password) {
        clearTimeout(timer);
        resolve({ url, password });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => reject(new Error(`standalone exited early:\n${output}`)));
  });
  return {
    ...ready,
    stop: async () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}
