import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeKubernetes, type PodJson } from './fakeApiServer.ts';

// Everything goes through the real client; the fake is only inspected, never bypassed.
// Over 400 lines on purpose: 13 tests of the one fake's HTTP surface, sharing the client set-up and the
// watch and pod-spec helpers below; split, each part would repeat them.
const NODE = 'test/node:1';
const TRUE = 'test/true:1';
const NS = 'default';
// Generous, for a loaded machine: waits end as soon as the condition holds.
const DEADLINE = 30_000;

let fake: FakeKubernetes;
let dir: string;
let kc: k8s.KubeConfig;
let api: k8s.CoreV1Api;

beforeEach(async () => {
  fake = await FakeKubernetes.start({
    images: { [NODE]: { entrypoint: [process.execPath] }, [TRUE]: { entrypoint: ['true'] } },
    secrets: { 'default/db': { password: 's3cret' } },
  });
  dir = mkdtempSync(path.join(os.tmpdir(), 'fake-k8s-'));
  fake.writeKubeconfig(path.join(dir, 'kubeconfig'));
  kc = new k8s.KubeConfig();
  kc.loadFromFile(path.join(dir, 'kubeconfig'));
  api = kc.makeApiClient(k8s.CoreV1Api);
});

afterEach(async () => {
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

function podSpec(
  name: string,
  options: { image?: string; args?: string[]; labels?: Record<string, string>; container?: Partial<k8s.V1Container> } = {},
): k8s.V1Pod {
  return {
    metadata: { name, labels: options.labels },
    spec: {
      restartPolicy: 'Never',
      containers: [{ name: 'base', image: options.image ?? NODE, args: options.args, ...options.container }],
    },
  };
}

const node = (script: string) => ['-e', script];

interface WatchEvent {
  type: string;
  object: PodJson & { code?: number; reason?: string; message?: string };
}

/** A real client Watch that records its events and when it ended. */
async function watch(query: Record<string, string> = {}, url = `/api/v1/namespaces/${NS}/pods`) {
  const events: WatchEvent[] = [];
  let ended!: (error: unknown) => void;
  const done = new Promise<unknown>((resolve) => (ended = resolve));
  const controller = await new k8s.Watch(kc).watch(
    url,
    query,
    (type, object) => events.push({ type, object }),
    (error) => ended(error),
  );
  return { events, done, stop: () => controller.abort() };
}

/** The Status body of a failed client call. */
async function failure(call: Promise<unknown>): Promise<{ code: number; reason: string; message: string; status: Record<string, unknown> }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof k8s.ApiException)) throw error;
    const status = typeof error.body === 'string' && error.body ? JSON.parse(error.body) : {};
    return { code: error.code, reason: status.reason, message: status.message, status };
  }
  throw new Error('the call succeeded');
}

const current = (name: string) => fake.pods(NS).find((p) => p.metadata.name === name);
const waitingReason = (pod: PodJson | undefined) => {
  const state = pod?.status.containerStatuses?.[0]?.state;
  return state && 'waiting' in state ? state.waiting.reason : undefined;
};
const terminated = (pod: PodJson | undefined) => {
  const state = pod?.status.containerStatuses?.[0]?.state;
  return state && 'terminated' in state ? state.terminated : undefined;
};
/** The phases a pod went through, as a watch saw them (repeats collapsed). */
const phases = (events: WatchEvent[], name: string) =>
  events
    .filter((e) => e.object.metadata?.name === name)
    .map((e) => e.object.status.phase)
    .filter((phase, i, all) => phase !== all[i - 1]);

describe('FakeKubernetes', () => {
  it('runs a pod as a process: the watch sees Pending, Running, then Failed with the exit code; its log holds stdout and stderr', async () => {
    const w = await watch();
    const created = await api.createNamespacedPod({
      namespace: NS,
      body: podSpec('crash', { args: node("console.log('hello'); console.error('oops'); setTimeout(() => process.exit(3), 50)") }),
    });
    expect(created.status?.phase).toBe('Pending');
    expect(created.metadata?.uid).toBeTruthy();

    await fake.waitFor(() => w.events.some((e) => e.object.status.phase === 'Failed'), DEADLINE, 'the pod to fail');
    expect(phases(w.events, 'crash')).toEqual(['Pending', 'Running', 'Failed']);
    expect(w.events[0]!.type).toBe('ADDED');
    expect(w.events.slice(1).every((e) => e.type === 'MODIFIED')).toBe(true);
    const last = w.events.at(-1)!.object;
    expect(last.spec.nodeName).toBe('fake-node');
    expect(terminated(last)).toMatchObject({ exitCode: 3, reason: 'Error' });
    // Versions only grow.
    const versions = w.events.map((e) => Number(e.object.metadata.resourceVersion));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));

    const log = await api.readNamespacedPodLog({ name: 'crash', namespace: NS });
    expect(log).toContain('hello\n');
    expect(log).toContain('oops\n');
    w.stop();
  });

  it('a pod that exits 0 Succeeds; tailLines and limitBytes cut its log', async () => {
    await api.createNamespacedPod({ namespace: NS, body: podSpec('ok', { args: node("console.log('a\\nb\\nc')") }) });
    const pod = await fake.waitFor(() => current('ok')?.status.phase === 'Succeeded' && current('ok'), DEADLINE, 'the pod to succeed');
    expect(terminated(pod)).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(await api.readNamespacedPodLog({ name: 'ok', namespace: NS })).toBe('a\nb\nc\n');
    expect(await api.readNamespacedPodLog({ name: 'ok', namespace: NS, tailLines: 2 })).toBe('b\nc\n');
    expect(await api.readNamespacedPodLog({ name: 'ok', namespace: NS, limitBytes: 3 })).toBe('a\nb');
    expect((await failure(api.readNamespacedPodLog({ name: 'ok', namespace: NS, container: 'nope' }))).code).toBe(400);
  });

  it('lists pods by label and field selectors, in one namespace or all', async () => {
    const labels = { web: { tier: 'web', track: 'stable' }, canary: { tier: 'web', track: 'canary' }, db: { tier: 'db' }, bare: undefined };
    for (const [name, l] of Object.entries(labels)) await api.createNamespacedPod({ namespace: NS, body: podSpec(name, { image: TRUE, labels: l }) });
    await api.createNamespacedPod({ namespace: 'other', body: podSpec('elsewhere', { image: TRUE, labels: { tier: 'web' } }) });

    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (await api.listNamespacedPod({ namespace: NS, labelSelector, fieldSelector })).items.map((p) => p.metadata!.name).sort();
    expect(await names()).toEqual(['bare', 'canary', 'db', 'web']);
    expect(await names('tier=web')).toEqual(['canary', 'web']);
    expect(await names('tier==web,track=canary')).toEqual(['canary']);
    expect(await names('tier in (web, db)')).toEqual(['canary', 'db', 'web']);
    expect(await names('tier notin (web)')).toEqual(['bare', 'db']);
    expect(await names('track!=canary')).toEqual(['bare', 'db', 'web']);
    expect(await names('track')).toEqual(['canary', 'web']);
    expect(await names('!track')).toEqual(['bare', 'db']);
    expect(await names(undefined, 'metadata.name=db')).toEqual(['db']);
    expect(await names('tier', 'metadata.name!=db')).toEqual(['canary', 'web']);
    expect((await failure(names('tier in (web'))).code).toBe(400);

    const all = await api.listPodForAllNamespaces({ labelSelector: 'tier=web' });
    expect(all.items.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`).sort()).toEqual(['default/canary', 'default/web', 'other/elsewhere']);
    expect(Number(all.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(fake.created.map((c) => c.name)).toEqual(['web', 'canary', 'db', 'bare', 'elsewhere']);
  });

  it('refuses what a real API server refuses: 422 invalid name or label, 409 duplicate, 401 without the token', async () => {
    const badName = await failure(api.createNamespacedPod({ namespace: NS, body: podSpec('Bad_Name', { image: TRUE }) }));
    expect(badName).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(badName.message).toContain('Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of');

    const badLabel = await failure(
      api.createNamespacedPod({ namespace: NS, body: podSpec('ok', { image: TRUE, labels: { 'airflow-ts/task': 'has space' } }) }),
    );
    expect(badLabel).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(badLabel.message).toContain('metadata.labels: Invalid value: "has space"');

    const noContainers = await failure(api.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'empty' }, spec: { containers: [] } } }));
    expect(noContainers.message).toBe('Pod "empty" is invalid: spec.containers: Required value');

    await api.createNamespacedPod({ namespace: NS, body: podSpec('once', { image: TRUE }) });
    expect(await failure(api.createNamespacedPod({ namespace: NS, body: podSpec('once', { image: TRUE }) }))).toMatchObject({
      code: 409,
      reason: 'AlreadyExists',
    });
    expect(fake.created.map((c) => c.name)).toEqual(['once']);

    const generated = await api.createNamespacedPod({ namespace: NS, body: { metadata: { generateName: 'task-' }, spec: podSpec('x', { image: TRUE }).spec } });
    expect(generated.metadata?.name).toMatch(/^task-[a-z0-9]{5}$/);

    expect(await failure(api.readNamespacedPod({ name: 'missing', namespace: NS }))).toMatchObject({ code: 404, reason: 'NotFound' });

    const response = await fetch(`${fake.url}/api/v1/namespaces/${NS}/pods`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
    writeFileSync(path.join(dir, 'wrong'), readFileSync(path.join(dir, 'kubeconfig'), 'utf8').replace('fake-token', 'wrong'));
    const wrong = new k8s.KubeConfig();
    wrong.loadFromFile(path.join(dir, 'wrong'));
    expect((await failure(wrong.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: NS }))).code).toBe(401);
  });

  it('leaves a pod that fits no node Pending with an Unschedulable condition', async () => {
    await api.createNamespacedPod({
      namespace: NS,
      body: { ...podSpec('picky', { image: TRUE }), spec: { ...podSpec('', { image: TRUE }).spec!, nodeSelector: { disktype: 'ssd' } } },
    });
    const greedy = podSpec('greedy', { image: TRUE, container: { resources: { requests: { cpu: '4500m' } } } });
    await api.createNamespacedPod({ namespace: NS, body: greedy });
    const scheduled = (name: string) => current(name)?.status.conditions?.find((c) => c.type === 'PodScheduled');

    const picky = await fake.waitFor(() => scheduled('picky'), DEADLINE, 'a scheduling decision');
    expect(picky).toMatchObject({
      status: 'False',
      reason: 'Unschedulable',
      message: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.",
    });
    expect(await fake.waitFor(() => scheduled('greedy'), DEADLINE, 'a scheduling decision')).toMatchObject({
      status: 'False',
      message: '0/1 nodes are available: 1 Insufficient cpu.',
    });

    // A pod created later runs to completion while the unschedulable ones are still Pending.
    await api.createNamespacedPod({ namespace: NS, body: podSpec('fits', { image: TRUE }) });
    await fake.waitFor(() => current('fits')?.status.phase === 'Succeeded', DEADLINE, 'the fitting pod');
    for (const name of ['picky', 'greedy']) {
      expect(current(name)?.status.phase).toBe('Pending');
      expect(current(name)?.spec.nodeName).toBeUndefined();
    }
    // Nothing ever ran, so the log is empty (as for any pod without a node).
    expect(await api.readNamespacedPodLog({ name: 'picky', namespace: NS })).toBe('');
  });

  it('an unknown image is ErrImagePull, then ImagePullBackOff, and never runs', async () => {
    const w = await watch();
    await api.createNamespacedPod({ namespace: NS, body: podSpec('nowhere', { image: 'registry.example/missing:1' }) });
    await fake.waitFor(() => w.events.some((e) => waitingReason(e.object) === 'ImagePullBackOff'), DEADLINE, 'ImagePullBackOff');
    const reasons = w.events.map((e) => waitingReason(e.object)).filter((r, i, all) => r && r !== all[i - 1]);
    expect(reasons).toEqual(['ContainerCreating', 'ErrImagePull', 'ImagePullBackOff']);
    const pull = w.events.find((e) => waitingReason(e.object) === 'ErrImagePull')!.object.status.containerStatuses![0]!.state;
    expect(JSON.stringify(pull)).toContain('registry.example/missing:1');
    expect(current('nowhere')?.status.phase).toBe('Pending');

    const log = await failure(api.readNamespacedPodLog({ name: 'nowhere', namespace: NS }));
    expect(log).toMatchObject({ code: 400, reason: 'BadRequest', message: 'container "base" in pod "nowhere" is waiting to start: ImagePullBackOff' });
    w.stop();
  });

  it('builds the environment from secrets and fields only: the test process environment does not leak in', async () => {
    process.env.FAKE_K8S_TEST_ONLY = 'leaked';
    try {
      const script =
        'console.log(JSON.stringify({ password: process.env.DB_PASSWORD, ns: process.env.MY_NS, host: process.env.HOSTNAME, plain: process.env.PLAIN, leak: process.env.FAKE_K8S_TEST_ONLY ?? null }))';
      const env: k8s.V1EnvVar[] = [
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        { name: 'MY_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'PLAIN', value: 'x-$(MY_NS)' },
      ];
      await api.createNamespacedPod({ namespace: NS, body: podSpec('env', { args: node(script), container: { env } }) });
      await fake.waitFor(() => current('env')?.status.phase === 'Succeeded', DEADLINE, 'the env pod');
      const seen = JSON.parse(await api.readNamespacedPodLog({ name: 'env', namespace: NS }));
      expect(seen).toEqual({ password: 's3cret', ns: NS, host: 'env', plain: 'x-default', leak: null });
    } finally {
      delete process.env.FAKE_K8S_TEST_ONLY;
    }

    const missing = [{ name: 'X', valueFrom: { secretKeyRef: { name: 'db', key: 'nope' } } }];
    await api.createNamespacedPod({ namespace: NS, body: podSpec('nokey', { image: TRUE, container: { env: missing } }) });
    const pod = await fake.waitFor(() => waitingReason(current('nokey')) === 'CreateContainerConfigError' && current('nokey'), DEADLINE, 'the config error');
    expect(JSON.stringify(pod.status.containerStatuses)).toContain("couldn't find key nope in Secret default/db");
  });

  it('a merge patch of labels is MODIFIED; a watch selecting the old label sees DELETED', async () => {
    await api.createNamespacedPod({ namespace: NS, body: podSpec('mover', { image: TRUE, labels: { queue: 'a' } }) });
    await fake.waitFor(() => current('mover')?.status.phase === 'Succeeded', DEADLINE, 'the pod to finish');
    const all = await watch({ resourceVersion: current('mover')!.metadata.resourceVersion });
    const queueA = await watch({ labelSelector: 'queue=a' });
    const queueB = await watch({ labelSelector: 'queue=b' });
    await fake.waitFor(() => queueA.events.length === 1, DEADLINE, 'the initial ADDED');

    const patched = await api.patchNamespacedPod(
      { name: 'mover', namespace: NS, body: { metadata: { labels: { queue: 'b', extra: 'yes' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    expect(patched.metadata?.labels).toEqual({ queue: 'b', extra: 'yes' });
    await fake.waitFor(() => all.events.length === 1 && queueA.events.length === 2 && queueB.events.length === 1, DEADLINE, 'the patch events');
    expect(all.events[0]).toMatchObject({ type: 'MODIFIED', object: { metadata: { labels: { queue: 'b' } } } });
    expect(queueA.events.map((e) => e.type)).toEqual(['ADDED', 'DELETED']);
    expect(queueB.events.map((e) => e.type)).toEqual(['ADDED']);

    // JSON patch with an escaped key; null in a merge patch removes a label.
    await api.patchNamespacedPod(
      { name: 'mover', namespace: NS, body: [{ op: 'add', path: '/metadata/labels/example.com~1team', value: 'data' }] },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
    await api.patchNamespacedPod(
      { name: 'mover', namespace: NS, body: { metadata: { labels: { extra: null } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    expect(current('mover')?.metadata.labels).toEqual({ queue: 'b', 'example.com/team': 'data' });
    const bad = await failure(
      api.patchNamespacedPod(
        { name: 'mover', namespace: NS, body: { metadata: { labels: { queue: 'no good' } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      ),
    );
    expect(bad).toMatchObject({ code: 422, reason: 'Invalid' });
    for (const w of [all, queueA, queueB]) w.stop();
  });

  it('dropWatches() ends the client watch; resuming from the last version sees only later events', async () => {
    const first = await watch();
    await api.createNamespacedPod({ namespace: NS, body: podSpec('before', { image: TRUE }) });
    await fake.waitFor(() => first.events.some((e) => e.object.status.phase === 'Succeeded'), DEADLINE, 'the first pod to finish');
    const lastVersion = Number(first.events.at(-1)!.object.metadata.resourceVersion);

    fake.dropWatches();
    expect(await first.done).toBeTruthy(); // done(error): the stream broke

    await api.createNamespacedPod({ namespace: NS, body: podSpec('after', { image: TRUE }) });
    const second = await watch({ resourceVersion: String(lastVersion) });
    await fake.waitFor(
      () => second.events.some((e) => e.object.metadata.name === 'after' && e.object.status.phase === 'Succeeded'),
      DEADLINE,
      'the second pod',
    );
    expect(second.events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'after' } } });
    // Nothing repeated, nothing missed: the versions continue where the first watch stopped.
    expect(second.events.map((e) => Number(e.object.metadata.resourceVersion))[0]).toBe(lastVersion + 1);
    expect(second.events.every((e) => e.object.metadata.name === 'after')).toBe(true);
    second.stop();
  });

  it('forgetHistory(): resuming from an old version gets an ERROR event with 410 Expired', async () => {
    await api.createNamespacedPod({ namespace: NS, body: podSpec('old', { image: TRUE }) });
    const { metadata } = await api.listNamespacedPod({ namespace: NS });
    await api.createNamespacedPod({ namespace: NS, body: podSpec('newer', { image: TRUE }) });
    fake.forgetHistory();

    const w = await watch({ resourceVersion: metadata!.resourceVersion! });
    expect(await w.done).toBeNull(); // the server ended the stream
    expect(w.events).toHaveLength(1);
    expect(w.events[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    expect(w.events[0]!.object.message).toMatch(new RegExp(`^too old resource version: ${metadata!.resourceVersion} \\(\\d+\\)$`));
  });

  it('deleting a running pod signals its process: a deletionTimestamp, then DELETED once it is gone (SIGKILL after the grace)', async () => {
    // Ignores SIGTERM, so only the SIGKILL after the grace period ends it.
    const script = "process.on('SIGTERM', () => console.log('term')); console.log('ready'); setInterval(() => {}, 1000)";
    const w = await watch();
    await api.createNamespacedPod({ namespace: NS, body: podSpec('stubborn', { args: node(script) }) });
    await fake.waitFor(() => current('stubborn')?.status.phase === 'Running', DEADLINE, 'Running');
    const pid = Number(current('stubborn')!.status.containerStatuses![0]!.containerID!.replace('fake://', ''));
    await pollLog('stubborn', 'ready');

    const answer = await api.deleteNamespacedPod({ name: 'stubborn', namespace: NS, gracePeriodSeconds: 1 });
    expect(answer.metadata?.deletionTimestamp).toBeTruthy();
    await fake.waitFor(() => w.events.some((e) => e.type === 'DELETED'), DEADLINE, 'DELETED');
    expect(current('stubborn')).toBeUndefined();
    expect(() => process.kill(pid, 0)).toThrow();

    const mine = w.events.filter((e) => e.object.metadata.name === 'stubborn');
    const marked = mine.findIndex((e) => e.type === 'MODIFIED' && e.object.metadata.deletionTimestamp);
    expect(marked).toBeGreaterThan(0);
    expect(mine.at(-1)!.type).toBe('DELETED');
    expect(terminated(mine.at(-1)!.object)).toMatchObject({ exitCode: 137 });
    expect(await failure(api.readNamespacedPod({ name: 'stubborn', namespace: NS }))).toMatchObject({ code: 404 });
    w.stop();
  });

  it('deleting a pod that is not running removes it at once', async () => {
    await api.createNamespacedPod({ namespace: NS, body: podSpec('done', { image: TRUE }) });
    await fake.waitFor(() => current('done')?.status.phase === 'Succeeded', DEADLINE, 'the pod to finish');
    const w = await watch({ resourceVersion: current('done')!.metadata.resourceVersion });
    await api.deleteNamespacedPod({ name: 'done', namespace: NS });
    expect(current('done')).toBeUndefined();
    await fake.waitFor(() => w.events.length === 1, DEADLINE, 'DELETED');
    expect(w.events[0]!.type).toBe('DELETED');
    expect((await failure(api.deleteNamespacedPod({ name: 'done', namespace: NS }))).code).toBe(404);
    w.stop();
  });

  it('follows a log until the process ends', async () => {
    const go = path.join(dir, 'go');
    const script = `const fs = require('fs'); console.log('one'); const t = setInterval(() => { if (fs.existsSync(${JSON.stringify(go)})) { clearInterval(t); console.log('two'); } }, 20)`;
    await api.createNamespacedPod({ namespace: NS, body: podSpec('chatty', { args: node(script) }) });
    await pollLog('chatty', 'one');

    let text = '';
    const finished = new Promise<void>((resolve) => {
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          text += chunk.toString();
          callback();
        },
      });
      sink.on('finish', resolve);
      void new k8s.Log(kc).log(NS, 'chatty', 'base', sink, { follow: true });
    });
    await fake.waitFor(() => text.includes('one'), DEADLINE, 'the first line');
    expect(text).not.toContain('two');
    writeFileSync(go, '');
    await finished;
    expect(text).toBe('one\ntwo\n');
    expect(current('chatty')?.status.phase).toBe('Succeeded');
  });
});

/** Waits until the pod's log (read through the API) contains `text`. */
async function pollLog(name: string, text: string): Promise<void> {
  const deadline = Date.now() + DEADLINE;
  for (;;) {
    const log = await api.readNamespacedPodLog({ name, namespace: NS }).catch(() => '');
    if (log.includes(text)) return;
    if (Date.now() > deadline) throw new Error(`pod ${name} never logged ${text}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
