import { Ajv, type ValidateFunction } from 'ajv';
import { InvalidConfError } from './errors.ts';
import type { SerializedParam } from './param.ts';

const ajv = new Ajv({ allErrors: true, strict: false });
const compiled = new WeakMap<Record<string, unknown>, ValidateFunction>();

/**
 * Airflow's param resolution for a run: each param's default, overridden by
 * the conf value of the same name, checked against the param's JSON Schema.
 * Extra conf keys are allowed and passed through. Returns the resolved params.
 */
export function resolveParams(dagId: string, params: Record<string, SerializedParam>, conf: Record<string, unknown>): Record<string, unknown> {
  const problems: string[] = [];
  const resolved: Record<string, unknown> = {};
  for (const [name, param] of Object.entries(params)) {
    const value = name in conf ? conf[name] : param.default;
    if (value === undefined) {
      problems.push(`param '${name}' has no default and is missing from conf`);
      continue;
    }
    let validate = compiled.get(param.schema);
    if (!validate) compiled.set(param.schema, (validate = ajv.compile(param.schema)));
    if (!validate(value)) {
      problems.push(`param '${name}'=${JSON.stringify(value)}: ${validate.errors?.map((e) => e.message).join(', ')}`);
      continue;
    }
    resolved[name] = value;
  }
  if (problems.length) throw new InvalidConfError(dagId, problems);
  return resolved;
}
