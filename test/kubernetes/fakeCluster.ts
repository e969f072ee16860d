import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { FakeKubernetes } from './fakeApiServer.ts';

/** The image the fake runs as this checkout's `airflow` command, like deploy/Dockerfile's entrypoint. */
export const IMAGE = 'airflow-ts:test';
export const AIRFLOW_BIN = fileURLToPath(new URL('../../bin/airflow.js', import.meta.url));

/**
 * A fake Kubernetes cluster for executor tests: the API server (stopped after
 * the file), a kubeconfig for namespace 'airflow', and an AIRFLOW_HOME that
 * pods run in. Tasks can wait on flag files the test writes.
 */
export async function startFakeCluster(options: { deleteGraceMs?: number } = {}) {
  const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-k8s-'));
  chmodSync(home, 0o755); // pods run `airflow tasks run` here; the embedded Postgres user must get in too
  const fake = await FakeKubernetes.start({ images: { [IMAGE]: { entrypoint: [process.execPath, AIRFLOW_BIN], cwd: home } }, ...options });
  afterAll(() => fake.stop());
  const kubeconfig = path.join(home, 'kubeconfig.yaml');
  fake.writeKubeconfig(kubeconfig, 'airflow');
  const flag = (name: string) => path.join(home, `${name}.flag`);
  // Bounded (~3 min), so a test that fails before writing the flag leaves no process behind.
  const waitFor = (name: string) => `for i in $(seq 3600); do [ -f ${flag(name)} ] && break; sleep 0.05; done`;
  return { home, fake, kubeconfig, flag, waitFor };
}
