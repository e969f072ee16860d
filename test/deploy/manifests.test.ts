import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { resolveConfig } from '../../config/resolveConfig.ts';
import { buildTaskPod, loadPodTemplate } from '../../executors/kubernetes/podTemplate.ts';

// The deployment kit, checked offline (no cluster or container engine here): every manifest parses,
// has what Kubernetes requires, and every reference (labels, volumes, config maps, secrets, service
// accounts, roles) points at something the kit defines.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KIT = path.join(ROOT, 'deploy', 'kubernetes');
type Doc = Record<string, any>;
const docs: Doc[] = readdirSync(KIT)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => YAML.parseAllDocuments(readFileSync(path.join(KIT, f), 'utf8')).map((d) => ({ ...(d.toJS() as Doc), __file: f })));
const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
const named = (kind: string, name: string) => byKind(kind).find((d) => d.metadata.name === name);

describe('deploy/kubernetes manifests', () => {
  it('parse, and each has apiVersion, kind and a DNS-label name', () => {
    expect(docs.length).toBeGreaterThanOrEqual(8);
    for (const doc of docs) {
      expect(doc.apiVersion, doc.__file).toMatch(/^(v1|apps\/v1|rbac\.authorization\.k8s\.io\/v1)$/);
      expect(doc.kind, doc.__file).toBeTruthy();
      expect(doc.metadata?.name, doc.__file).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    }
    expect(
      byKind('Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(['airflow-ts-scheduler', 'airflow-ts-webserver']);
  });

  it('deployments select their own pods, run the image with an airflow command, and mount only declared volumes', () => {
    for (const deployment of byKind('Deployment')) {
      const spec = deployment.spec;
      expect(spec.template.metadata.labels).toMatchObject(spec.selector.matchLabels);
      const pod = spec.template.spec;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      const volumes = new Set((pod.volumes ?? []).map((v: Doc) => v.name));
      for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        expect(container.image).toMatch(/^airflow-ts:/);
        expect(['scheduler', 'webserver', 'db']).toContain(container.args[0]);
        for (const mount of container.volumeMounts ?? []) expect(volumes.has(mount.name), `${container.name} mounts ${mount.name}`).toBe(true);
        for (const source of container.envFrom ?? []) expect(named('Secret', source.secretRef.name), source.secretRef.name).toBeDefined();
      }
      for (const volume of pod.volumes ?? []) if (volume.configMap) expect(named('ConfigMap', volume.configMap.name)).toBeDefined();
      if (pod.serviceAccountName) expect(named('ServiceAccount', pod.serviceAccountName)).toBeDefined();
    }
  });

  it('the service reaches the webserver pods, and the scheduler may create, watch and delete pods (and read their logs)', () => {
    const service = named('Service', 'airflow-ts-webserver')!;
    expect(named('Deployment', 'airflow-ts-webserver')!.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    const binding = named('RoleBinding', 'airflow-ts-pod-launcher')!;
    const role = named(binding.roleRef.kind, binding.roleRef.name)!;
    expect(named('ServiceAccount', binding.subjects[0].name)).toBeDefined();
    const pods = role.rules.find((r: Doc) => r.resources.includes('pods'));
    expect(pods.verbs).toEqual(expect.arrayContaining(['create', 'get', 'list', 'watch', 'delete', 'patch']));
    expect(role.rules.some((r: Doc) => r.resources.includes('pods/log') && r.verbs.includes('get'))).toBe(true);
  });

  it('the ConfigMap holds an airflow.config.ts that airflow-ts accepts', async () => {
    const source = named('ConfigMap', 'airflow-ts-config')!.data['airflow.config.ts'];
    const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-kit-'));
    writeFileSync(path.join(dir, 'airflow.config.ts'), source);
    const config = await resolveConfig({ configFile: path.join(dir, 'airflow.config.ts'), env: { AIRFLOW_HOME: dir } });
    expect(config.core.executor).toBe('KubernetesExecutor');
    expect(config.kubernetes.namespace).toBe('airflow');
  });

  it('the pod template gives task pods the image, the Secret, the config and the volumes the scheduler uses', async () => {
    const configMap = named('ConfigMap', 'airflow-ts-config')!;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-kit-'));
    writeFileSync(path.join(dir, 'airflow.config.ts'), configMap.data['airflow.config.ts']);
    writeFileSync(path.join(dir, 'pod-template.yaml'), configMap.data['pod-template.yaml']);
    const config = await resolveConfig({
      configFile: path.join(dir, 'airflow.config.ts'),
      env: { AIRFLOW_HOME: '/opt/airflow', AIRFLOW__KUBERNETES__POD_TEMPLATE_FILE: path.join(dir, 'pod-template.yaml') },
    });
    const pod = buildTaskPod(
      {
        tiId: 1,
        dagId: 'example_etl',
        taskId: 'extract',
        runId: 'manual__2025-01-01T00:00:00+00:00',
        mapIndex: -1,
        tryNumber: 1,
        queue: 'default',
        priorityWeight: 1,
        executorConfig: null,
      },
      config,
      loadPodTemplate(config.kubernetes.podTemplateFile),
      1,
    );
    const task = pod.spec!.containers[0]!;
    expect(task.image).toBe(named('Deployment', 'airflow-ts-scheduler')!.spec.template.spec.containers[0].image);
    expect(task.args).toEqual(['tasks', 'run', 'example_etl', 'extract', 'manual__2025-01-01T00:00:00+00:00', '--map-index', '-1']);
    for (const source of task.envFrom ?? []) expect(named('Secret', source.secretRef!.name!)).toBeDefined();
    expect(task.env).toEqual(expect.arrayContaining([{ name: 'AIRFLOW_CONFIG', value: '/etc/airflow-ts/airflow.config.ts' }]));
    const volumes = new Map(pod.spec!.volumes!.map((v) => [v.name, v]));
    for (const mount of task.volumeMounts!) expect(volumes.has(mount.name), mount.name).toBe(true);
    expect(volumes.get('config')!.configMap!.name).toBe('airflow-ts-config');
    const schedulerVolumes = named('Deployment', 'airflow-ts-scheduler')!.spec.template.spec.volumes as Doc[];
    for (const name of ['dags', 'logs']) {
      expect(volumes.get(name)!.persistentVolumeClaim!.claimName).toBe(schedulerVolumes.find((v) => v.name === name)!.persistentVolumeClaim.claimName);
    }
    expect(task.volumeMounts!.find((m) => m.name === 'dags')!.mountPath).toBe('/opt/airflow/dags');
    expect(pod.spec!.securityContext!.runAsNonRoot).toBe(true);
  });

  it('the webserver may read task pods and their logs', () => {
    const account = named('Deployment', 'airflow-ts-webserver')!.spec.template.spec.serviceAccountName;
    const binding = byKind('RoleBinding').find((b) => b.subjects.some((s: Doc) => s.name === account))!;
    const role = named(binding.roleRef.kind, binding.roleRef.name)!;
    expect(role.rules.some((r: Doc) => r.resources.includes('pods/log') && r.verbs.includes('get'))).toBe(true);
    expect(role.rules.some((r: Doc) => r.resources.includes('pods') && r.verbs.includes('list'))).toBe(true);
  });

  it('the Dockerfile copies folders that exist and runs as a non-root user', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    for (const item of copied) expect(existsSync(path.join(ROOT, item)), item).toBe(true);
    expect(dockerfile).toMatch(/^USER 50000$/m);
    expect(dockerfile).toMatch(/^FROM node:20[^\n]* AS deps$/m);
  });
});
