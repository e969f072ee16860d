/** Errors the fake answers with, shaped like the API server's `Status` objects. */

export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

export interface StatusDetails {
  name?: string;
  kind?: string;
  causes?: StatusCause[];
}

export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus() {
    return statusObject(this.code, this.reason, this.message, this.details);
  }
}

export function statusObject(code: number, reason: string, message: string, details?: StatusDetails) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

export const badRequest = (message: string) => new KubeError(400, 'BadRequest', message);

export const podNotFound = (name: string) => new KubeError(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });

export const conflict = (name: string) =>
  new KubeError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on pods "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, kind: 'pods' },
  );

/** A field error as the API server words it: `metadata.name: Invalid value: "X": why`. */
export interface FieldError {
  field: string;
  type: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueDuplicate' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueTooLong';
  detail: string;
  value?: unknown;
}

function describe(error: FieldError): string {
  switch (error.type) {
    case 'FieldValueInvalid':
      return `Invalid value: ${JSON.stringify(error.value)}: ${error.detail}`;
    case 'FieldValueDuplicate':
      return `Duplicate value: ${JSON.stringify(error.value)}`;
    case 'FieldValueNotSupported':
      return `Unsupported value: ${JSON.stringify(error.value)}: ${error.detail}`;
    case 'FieldValueRequired':
      return error.detail ? `Required value: ${error.detail}` : 'Required value';
    case 'FieldValueForbidden':
      return `Forbidden: ${error.detail}`;
    case 'FieldValueTooLong':
      return `Too long: ${error.detail}`;
  }
}

/** 422 Invalid: one error reads `Pod "x" is invalid: field: ...`, several are bracketed. */
export function invalidPod(name: string, errors: FieldError[]): KubeError {
  const parts = errors.map((e) => `${e.field}: ${describe(e)}`);
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return new KubeError(422, 'Invalid', `Pod "${name}" is invalid: ${summary}`, {
    name,
    kind: 'Pod',
    causes: errors.map((e) => ({ reason: e.type, message: describe(e), field: e.field })),
  });
}
