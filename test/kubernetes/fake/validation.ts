/**
 * The API server's validation of pods, with its exact wording (from
 * k8s.io/apimachinery/pkg/util/validation), so a client's error handling can be
 * tested against the messages it will really see.
 */
import { badRequest, type FieldError } from './status.ts';
import type { PodJson, PodSpec } from './types.ts';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** apimachinery's RegexError, double spaces included. */
function regexError(message: string, format: string, ...examples: string[]): string {
  return `${message} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${format}')`;
}
const maxLen = (n: number) => `must be no more than ${n} characters`;

export function dns1123Subdomain(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 253) errors.push(maxLen(253));
  if (!DNS1123_SUBDOMAIN.test(value)) {
    errors.push(
      regexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*',
        'example.com',
      ),
    );
  }
  return errors;
}

export function dns1123Label(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push(maxLen(63));
  if (!DNS1123_LABEL.test(value)) {
    errors.push(
      regexError(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
        '[a-z0-9]([-a-z0-9]*[a-z0-9])?',
        'my-name',
        '123-abc',
      ),
    );
  }
  return errors;
}

const QUALIFIED_NAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';

/** Label and annotation keys: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters. */
export function qualifiedName(value: string): string[] {
  const parts = value.split('/');
  if (parts.length > 2) {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  const errors: string[] = [];
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === '') errors.push('prefix part must be non-empty');
    else errors.push(...dns1123Subdomain(prefix).map((e) => `prefix part ${e}`));
  }
  if (name === '') errors.push('name part must be non-empty');
  else if (name.length > 63) errors.push(`name part ${maxLen(63)}`);
  if (!QUALIFIED_NAME.test(name)) errors.push(`name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errors;
}

export function labelValue(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push(maxLen(63));
  if (!LABEL_VALUE.test(value)) {
    errors.push(
      regexError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?',
        'MyValue',
        'my_value',
        '12345',
      ),
    );
  }
  return errors;
}

function validateLabels(labels: Record<string, string> | undefined, field: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(labels ?? {})) {
    for (const detail of qualifiedName(key)) errors.push({ field, type: 'FieldValueInvalid', value: key, detail });
    for (const detail of labelValue(value)) errors.push({ field, type: 'FieldValueInvalid', value, detail });
  }
  return errors;
}

/** Metadata rules that hold on every write (create and patch). */
export function validateMetadata(pod: PodJson): FieldError[] {
  const errors: FieldError[] = [];
  const { name, labels, annotations } = pod.metadata;
  for (const detail of dns1123Subdomain(name)) errors.push({ field: 'metadata.name', type: 'FieldValueInvalid', value: name, detail });
  errors.push(...validateLabels(labels, 'metadata.labels'));
  let size = 0;
  for (const [key, value] of Object.entries(annotations ?? {})) {
    size += key.length + value.length;
    for (const detail of qualifiedName(key.toLowerCase())) errors.push({ field: 'metadata.annotations', type: 'FieldValueInvalid', value: key, detail });
  }
  if (size > 262144) errors.push({ field: 'metadata.annotations', type: 'FieldValueTooLong', detail: 'must have at most 262144 bytes' });
  return errors;
}

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];

export function validateCreate(pod: PodJson): FieldError[] {
  const errors = validateMetadata(pod);
  const { containers, restartPolicy, nodeSelector } = pod.spec;
  if (containers.length === 0) errors.push({ field: 'spec.containers', type: 'FieldValueRequired', detail: '' });
  const seen = new Set<string>();
  containers.forEach((container, i) => {
    const field = `spec.containers[${i}]`;
    if (!container.name) errors.push({ field: `${field}.name`, type: 'FieldValueRequired', detail: '' });
    else {
      for (const detail of dns1123Label(container.name)) errors.push({ field: `${field}.name`, type: 'FieldValueInvalid', value: container.name, detail });
      if (seen.has(container.name)) errors.push({ field: `${field}.name`, type: 'FieldValueDuplicate', value: container.name, detail: '' });
      seen.add(container.name);
    }
    if (!container.image) errors.push({ field: `${field}.image`, type: 'FieldValueRequired', detail: '' });
  });
  if (restartPolicy !== undefined && !RESTART_POLICIES.includes(restartPolicy)) {
    errors.push({
      field: 'spec.restartPolicy',
      type: 'FieldValueNotSupported',
      value: restartPolicy,
      detail: `supported values: ${RESTART_POLICIES.map((p) => `"${p}"`).join(', ')}`,
    });
  }
  errors.push(...validateLabels(nodeSelector, 'spec.nodeSelector'));
  return errors;
}

/** A running pod's spec is immutable except for these fields (as on a real cluster). */
export function validateSpecUpdate(before: PodSpec, after: PodSpec): FieldError[] {
  const mutable = (spec: PodSpec) => {
    const { activeDeadlineSeconds: _a, tolerations: _t, containers, ...rest } = spec;
    return JSON.stringify({ ...rest, containers: containers.map(({ image: _i, ...c }) => c) });
  };
  if (mutable(before) === mutable(after)) return [];
  return [
    {
      field: 'spec',
      type: 'FieldValueForbidden',
      detail:
        'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    },
  ];
}

/**
 * Checks the JSON shapes the fake relies on, the way Go's decoder would refuse
 * them (400), before any field validation (422).
 */
export function decodeShape(body: unknown): void {
  const fail = (path: string, expected: string): never => {
    throw badRequest(`Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal into Go struct field ${path} of type ${expected}`);
  };
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const stringMap = (v: unknown, path: string) => {
    if (v === undefined) return;
    if (!isObject(v)) fail(path, 'map[string]string');
    for (const value of Object.values(v as object)) if (typeof value !== 'string') fail(path, 'string');
  };
  const stringList = (v: unknown, path: string) => {
    if (v === undefined) return;
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) fail(path, '[]string');
  };
  if (!isObject(body)) return fail('Pod', 'v1.Pod');
  const metadata = body.metadata ?? {};
  if (!isObject(metadata)) return fail('Pod.metadata', 'v1.ObjectMeta');
  for (const key of ['name', 'generateName', 'namespace'] as const) {
    if (metadata[key] !== undefined && typeof metadata[key] !== 'string') fail(`ObjectMeta.metadata.${key}`, 'string');
  }
  stringMap(metadata.labels, 'ObjectMeta.metadata.labels');
  stringMap(metadata.annotations, 'ObjectMeta.metadata.annotations');
  const spec = body.spec ?? {};
  if (!isObject(spec)) return fail('Pod.spec', 'v1.PodSpec');
  stringMap(spec.nodeSelector, 'PodSpec.spec.nodeSelector');
  const containers = spec.containers ?? [];
  if (!Array.isArray(containers)) return fail('PodSpec.spec.containers', '[]v1.Container');
  for (const container of containers) {
    if (!isObject(container)) return fail('PodSpec.spec.containers', 'v1.Container');
    for (const key of ['name', 'image', 'workingDir'] as const) {
      if (container[key] !== undefined && typeof container[key] !== 'string') fail(`Container.spec.containers.${key}`, 'string');
    }
    stringList(container.command, 'Container.spec.containers.command');
    stringList(container.args, 'Container.spec.containers.args');
    if (container.env !== undefined && (!Array.isArray(container.env) || container.env.some((e) => !isObject(e) || typeof e.name !== 'string'))) {
      fail('Container.spec.containers.env', '[]v1.EnvVar');
    }
  }
}
