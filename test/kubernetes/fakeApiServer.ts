/**
 * A fake Kubernetes API server for tests. It speaks the real HTTP protocol for
 * pods (create, get, list, watch, patch, delete, log), so the real
 * @kubernetes/client-node cannot tell it from a cluster, and it "runs" each pod
 * by starting its first container's command as a local process.
 *
 * Not implemented: any resource but pods (no namespaces: every namespace
 * exists; no events, secrets or configmaps over the API), PUT, subresources
 * other than /log, dryRun, log timestamps/sinceSeconds. See fake/kubelet.ts
 * for how pods run.
 *
 * Over 400 lines on purpose: one class, the HTTP routing and the pod verbs it
 * serves (one method each, sharing the store, watches and kubelet). Every part
 * that stands on its own (store, watch, kubelet, patch, validation, selectors,
 * status, pod log) is already a module of fake/.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeKubelet } from './fake/kubelet.ts';
import { mergePatch, jsonPatch } from './fake/patch.ts';
import { tail } from './fake/podLog.ts';
import { parseFieldSelector, parseLabelSelector } from './fake/selectors.ts';
import { KubeError, badRequest, conflict, invalidPod, podNotFound, statusObject } from './fake/status.ts';
import { PodStore } from './fake/store.ts';
import { clone, timestamp, type FakeImage, type PodJson } from './fake/types.ts';
import { decodeShape, validateCreate, validateMetadata, validateSpecUpdate } from './fake/validation.ts';
import { Watches } from './fake/watch.ts';

export type { FakeImage, PodJson } from './fake/types.ts';

export interface FakeKubernetesOptions {
  /** Image name (exactly as in the pod spec) -> how to run it locally; an unknown image is ErrImagePull. */
  images: Record<string, FakeImage>;
  /** The one node's labels; default { 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': 'fake-node' }. */
  nodeLabels?: Record<string, string>;
  /** The node's allocatable cpu; default '4'. */
  nodeCpu?: string;
  /** "namespace/name" -> data, for env valueFrom.secretKeyRef and envFrom.secretRef. */
  secrets?: Record<string, Record<string, string>>;
  /** The bearer token every request must carry; default 'fake-token'. */
  token?: string;
  /** How many watch events are kept for resuming; default 1000. */
  historyLimit?: number;
  /** SIGTERM -> SIGKILL grace for deleted running pods; default 2000 (a smaller gracePeriodSeconds wins). */
  deleteGraceMs?: number;
}

export interface CreatedPod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The args of the task container ("base", else the first). */
  args: string[];
  at: Date;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
}

const NODE_NAME = 'fake-node';
// generateName suffixes use the API server's alphabet (no vowels, no look-alikes).
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

const wantsWatch = (query: URLSearchParams) => query.get('watch') === 'true' || query.get('watch') === '1';

export class FakeKubernetes {
  readonly created: CreatedPod[] = [];
  readonly requests: RecordedRequest[] = [];
  private readonly store: PodStore;
  private readonly kubelet: FakeKubelet;
  private readonly watches: Watches;
  private readonly token: string;
  /** Open log streams, ended on stop(). */
  private readonly logStreams = new Set<ServerResponse>();

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    options: FakeKubernetesOptions,
  ) {
    this.token = options.token ?? 'fake-token';
    this.store = new PodStore(options.historyLimit ?? 1000);
    this.watches = new Watches(this.store);
    this.kubelet = new FakeKubelet(this.store, {
      images: options.images,
      nodeName: NODE_NAME,
      nodeLabels: options.nodeLabels ?? { 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': NODE_NAME },
      nodeCpu: options.nodeCpu ?? '4',
      secrets: options.secrets ?? {},
      deleteGraceMs: options.deleteGraceMs ?? 2000,
    });
    server.on('request', (req, res) => void this.handle(req, res));
  }

  static async start(options: FakeKubernetesOptions): Promise<FakeKubernetes> {
    const server = http.createServer();
    // Longer than the client's idle keep-alive, so the server never closes a
    // connection the client is about to reuse (a spurious "other side closed").
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const { port } = server.address() as AddressInfo;
    return new FakeKubernetes(server, `http://127.0.0.1:${port}`, options);
  }

  /** A kubeconfig for this server (plain http needs insecure-skip-tls-verify with client-node). */
  writeKubeconfig(file: string, namespace = 'default'): void {
    const q = JSON.stringify;
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: fake',
        '  cluster:',
        `    server: ${q(this.url)}`,
        '    insecure-skip-tls-verify: true',
        'users:',
        '- name: fake',
        '  user:',
        `    token: ${q(this.token)}`,
        'contexts:',
        '- name: fake',
        '  context:',
        '    cluster: fake',
        '    user: fake',
        `    namespace: ${q(namespace)}`,
        'current-context: fake',
        '',
      ].join('\n'),
    );
  }

  /** Current pods (copies), optionally of one namespace. */
  pods(namespace?: string): PodJson[] {
    return this.store.list((p) => namespace === undefined || p.metadata.namespace === namespace).map(clone);
  }

  dropWatches(): void {
    this.watches.drop();
  }

  forgetHistory(): void {
    this.store.forgetHistory();
  }

  /** Polls `probe` every 20 ms until it returns something truthy. */
  async waitFor<T>(probe: () => T | undefined | false | null, timeoutMs = 10_000, what = 'a condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    await this.kubelet.stop();
    this.watches.close();
    for (const res of this.logStreams) res.end();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // --- HTTP -----------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams) });
    try {
      const body = await readBody(req);
      if (req.headers.authorization !== `Bearer ${this.token}`) throw new KubeError(401, 'Unauthorized', 'Unauthorized');
      await this.route(req.method ?? 'GET', url, req, body, res);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = error instanceof KubeError ? error.toStatus() : statusObject(500, 'InternalError', `Internal error occurred: ${String(error)}`);
      sendJson(res, status.code, status);
    }
  }

  private async route(method: string, url: URL, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const query = url.searchParams;
    if (method === 'GET' && url.pathname === '/version') {
      return sendJson(res, 200, { major: '1', minor: '31', gitVersion: 'v1.31.0-fake', platform: 'linux/amd64' });
    }
    if (parts[0] !== 'api' || parts[1] !== 'v1') throw notFound();
    const rest = parts.slice(2);

    // Legacy /api/v1/watch/... paths are the same watches.
    const legacyWatch = rest[0] === 'watch';
    const path = legacyWatch ? rest.slice(1) : rest;
    const watch = legacyWatch || wantsWatch(query);

    // /api/v1/pods (all namespaces)
    if (path.length === 1 && path[0] === 'pods') {
      if (method !== 'GET') throw methodNotAllowed();
      return this.listOrWatch(undefined, query, watch, res);
    }
    if (path[0] !== 'namespaces' || path.length < 3 || path[2] !== 'pods') throw notFound();
    const namespace = path[1]!;
    const name = path[3];
    if (path.length === 3) {
      if (method === 'GET') return this.listOrWatch(namespace, query, watch, res);
      if (legacyWatch) throw methodNotAllowed();
      if (method === 'POST') return sendJson(res, 201, this.create(namespace, parseJson(body)));
      if (method === 'DELETE') return sendJson(res, 200, this.deleteCollection(namespace, query));
      throw methodNotAllowed();
    }
    if (name === undefined || legacyWatch) throw notFound();
    if (path.length === 4) {
      if (method === 'GET') return sendJson(res, 200, this.get(namespace, name));
      if (method === 'PATCH') return sendJson(res, 200, this.patch(namespace, name, req.headers['content-type'], body));
      if (method === 'DELETE') return sendJson(res, 200, this.delete(namespace, name, query, body));
      throw methodNotAllowed();
    }
    if (path.length === 5 && path[4] === 'log') {
      if (method !== 'GET') throw methodNotAllowed();
      return this.log(namespace, name, query, res);
    }
    throw notFound();
  }

  private get(namespace: string, name: string): PodJson {
    const pod = this.store.get(namespace, name);
    if (!pod) throw podNotFound(name);
    return pod;
  }

  private selection(namespace: string | undefined, query: URLSearchParams): (pod: PodJson) => boolean {
    const labels = parseLabelSelector(query.get('labelSelector') ?? '');
    const fields = parseFieldSelector(query.get('fieldSelector') ?? '');
    return (pod) => (namespace === undefined || pod.metadata.namespace === namespace) && labels(pod.metadata.labels ?? {}) && fields(pod);
  }

  private listOrWatch(namespace: string | undefined, query: URLSearchParams, watch: boolean, res: ServerResponse): void {
    const matches = this.selection(namespace, query);
    if (watch) {
      const timeout = query.get('timeoutSeconds');
      return this.watches.serve(res, {
        matches,
        resourceVersion: query.get('resourceVersion') ?? undefined,
        timeoutSeconds: timeout === null ? undefined : Number(timeout),
        bookmarks: query.get('allowWatchBookmarks') === 'true',
      });
    }
    let items = this.store.list(matches);
    const metadata: Record<string, unknown> = { resourceVersion: String(this.store.resourceVersion) };
    // limit/continue: the token names the last pod returned.
    const token = query.get('continue');
    if (token) {
      const after = Buffer.from(token, 'base64url').toString();
      items = items.filter((p) => `${p.metadata.namespace}/${p.metadata.name}` > after);
    }
    const limit = Number(query.get('limit') ?? 0);
    if (limit > 0 && items.length > limit) {
      const last = items[limit - 1]!;
      metadata.continue = Buffer.from(`${last.metadata.namespace}/${last.metadata.name}`).toString('base64url');
      metadata.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    // List items carry no kind/apiVersion on the wire; the list does.
    const bare = items.map(({ kind: _k, apiVersion: _a, ...pod }) => pod);
    sendJson(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata, items: bare });
  }

  private create(namespace: string, body: unknown): PodJson {
    decodeShape(body);
    const input = body as Partial<PodJson> & { metadata?: Partial<PodJson['metadata']> };
    const meta: Partial<PodJson['metadata']> = input.metadata ?? {};
    if (meta.namespace !== undefined && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    let name = meta.name ?? '';
    if (!name && meta.generateName) {
      for (let attempt = 0; attempt < 8 && (!name || this.store.get(namespace, name)); attempt++) {
        name = meta.generateName + Array.from({ length: 5 }, () => SUFFIX_ALPHABET[Math.floor(Math.random() * SUFFIX_ALPHABET.length)]).join('');
      }
    }
    if (!name) throw invalidPod('', [{ field: 'metadata.name', type: 'FieldValueRequired', detail: 'name or generateName is required' }]);

    const pod: PodJson = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...meta,
        name,
        namespace,
        uid: randomUUID(),
        resourceVersion: '',
        creationTimestamp: timestamp(),
      },
      spec: withDefaults(input.spec ?? { containers: [] }),
      status: { phase: 'Pending', qosClass: 'BestEffort' },
    };
    // Server-owned fields a client cannot set.
    delete pod.metadata.deletionTimestamp;
    delete pod.metadata.deletionGracePeriodSeconds;
    delete pod.spec.nodeName;

    const errors = validateCreate(pod);
    if (errors.length) throw invalidPod(name, errors);
    if (this.store.get(namespace, name)) {
      throw new KubeError(409, 'AlreadyExists', `pods "${name}" already exists`, { name, kind: 'pods' });
    }
    const stored = this.store.create(pod);
    this.created.push({
      namespace,
      name,
      labels: { ...stored.metadata.labels },
      annotations: { ...stored.metadata.annotations },
      args: [...((stored.spec.containers.find((c) => c.name === 'base') ?? stored.spec.containers[0])?.args ?? [])],
      at: new Date(),
    });
    this.kubelet.admit(stored);
    return stored;
  }

  private patch(namespace: string, name: string, contentType: string | undefined, body: Buffer): PodJson {
    const current = this.get(namespace, name);
    const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
    let patched: unknown;
    if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') {
      patched = mergePatch(current, parseJson(body));
    } else if (type === 'application/json-patch+json') {
      patched = jsonPatch(current, parseJson(body));
    } else {
      throw new KubeError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
      );
    }
    decodeShape(patched);
    const next = patched as PodJson;
    if (next.metadata?.name !== name) {
      throw badRequest(`the name of the object (${String(next.metadata?.name)}) does not match the name on the URL (${name})`);
    }
    // A resourceVersion in the patch is an optimistic-concurrency precondition.
    if (next.metadata.resourceVersion !== current.metadata.resourceVersion) throw conflict(name);
    // Server-owned fields stay; status only changes through the status subresource.
    next.apiVersion = 'v1';
    next.kind = 'Pod';
    for (const field of ['namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const) {
      if (current.metadata[field] === undefined) delete next.metadata[field];
      else next.metadata[field] = current.metadata[field] as never;
    }
    next.status = current.status;
    const errors = [...validateMetadata(next), ...validateSpecUpdate(current.spec, next.spec ?? { containers: [] })];
    if (errors.length) throw invalidPod(name, errors);
    // A patch that changes nothing is not a change: no new version, no event.
    if (JSON.stringify(next) === JSON.stringify(current)) return current;
    return this.store.replace(next);
  }

  private delete(namespace: string, name: string, query: URLSearchParams, body: Buffer): PodJson {
    const pod = this.get(namespace, name);
    const options = body.length ? (parseJson(body) as { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string } }) : {};
    const { uid, resourceVersion } = options.preconditions ?? {};
    if (uid !== undefined && uid !== pod.metadata.uid) {
      throw new KubeError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on pods "${name}": Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid}`,
        { name, kind: 'pods' },
      );
    }
    if (resourceVersion !== undefined && resourceVersion !== pod.metadata.resourceVersion) throw conflict(name);
    const fromQuery = query.get('gracePeriodSeconds');
    const grace = options.gracePeriodSeconds ?? (fromQuery === null ? undefined : Number(fromQuery));
    return this.kubelet.delete(pod, grace);
  }

  private deleteCollection(namespace: string, query: URLSearchParams) {
    const grace = query.get('gracePeriodSeconds');
    const deleted = this.store.list(this.selection(namespace, query)).map((pod) => this.kubelet.delete(pod, grace === null ? undefined : Number(grace)));
    return { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(this.store.resourceVersion) }, items: deleted };
  }

  private log(namespace: string, name: string, query: URLSearchParams, res: ServerResponse): void {
    const pod = this.get(namespace, name);
    const names = pod.spec.containers.map((c) => c.name);
    let container = query.get('container') ?? '';
    if (!container) {
      if (names.length !== 1) throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
      container = names[0]!;
    } else if (!names.includes(container)) {
      throw badRequest(`container ${container} is not valid for pod ${name}`);
    }
    if (query.get('previous') === 'true') throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);

    // As on a real cluster: a pod with no node yet has an empty log; a
    // scheduled one whose container has not started is an error from the kubelet.
    const log = container === names[0] ? this.kubelet.logOf(pod) : undefined;
    if (!log && pod.spec.nodeName) {
      const status = pod.status.containerStatuses?.find((s) => s.name === container);
      const reason = status && 'waiting' in status.state ? status.state.waiting.reason : 'ContainerCreating';
      throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${reason}`);
    }

    let contents = log?.contents() ?? Buffer.alloc(0);
    const tailLines = query.get('tailLines');
    if (tailLines !== null) contents = tail(contents, Number(tailLines));
    const limit = query.get('limitBytes');
    let budget = limit === null ? Infinity : Number(limit);
    const take = (chunk: Buffer) => {
      const part = chunk.subarray(0, Math.max(0, Math.min(chunk.length, budget)));
      budget -= part.length;
      return part;
    };

    res.writeHead(200, { 'Content-Type': 'text/plain' });
    const first = take(contents);
    const follow = query.get('follow') === 'true';
    if (!follow || !log || log.finished || budget <= 0) {
      res.end(first);
      return;
    }
    res.on('error', () => {}); // a client that went away is not the fake's problem
    res.write(first);
    this.logStreams.add(res);
    const finish = () => {
      unfollow();
      this.logStreams.delete(res);
      if (!res.writableEnded) res.end();
    };
    const unfollow = log.follow((chunk) => {
      if (res.writableEnded || res.destroyed) return;
      res.write(take(chunk));
      if (budget <= 0) finish();
    }, finish);
    res.on('close', finish);
  }
}

/** Fields the API server fills in on create, so stored pods look like a cluster's. */
function withDefaults(spec: PodJson['spec']): PodJson['spec'] {
  return {
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    schedulerName: 'default-scheduler',
    serviceAccountName: 'default',
    ...spec,
    containers: (spec.containers ?? []).map((c) => ({
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      imagePullPolicy: !c.image || c.image.endsWith(':latest') || !/:[^/]+$/.test(c.image) ? 'Always' : 'IfNotPresent',
      ...c,
    })),
  };
}

const notFound = () => new KubeError(404, 'NotFound', 'the server could not find the requested resource');
const methodNotAllowed = () => new KubeError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw badRequest(`the body of the request could not be decoded as JSON: ${(error as Error).message}`);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
