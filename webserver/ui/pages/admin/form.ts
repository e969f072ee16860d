/** The generic admin form (views/admin/form.ejs): its fields, and reading a submitted one. */

/** A form field of the generic admin form (views/admin/form.ejs). */
export interface FormField {
  name: string;
  label: string;
  kind: 'text' | 'textarea' | 'number' | 'password' | 'checkbox';
  value?: string;
  checked?: boolean;
  hint?: string;
  required?: boolean;
  readonly?: boolean;
  placeholder?: string;
  /** Monospace (values, JSON). */
  code?: boolean;
}

/** A submitted form. */
export type Body = Record<string, unknown>;

/** A text field's value ('' when it is missing). */
export const text = (body: Body | undefined, name: string): string => {
  const value = body?.[name];
  return typeof value === 'string' ? value : '';
};
/** An optional text field: empty means null. */
export const orNull = (body: Body, name: string): string | null => text(body, name) || null;
/** A number field as the API would receive it from JSON (a non-number stays a string, so the schema reports it). */
export const numberOrText = (value: string): number | string => (/^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value);
/** A checkbox: ticked. */
export const checked = (body: Body, name: string): boolean => body[name] === 'on' || body[name] === 'true';
