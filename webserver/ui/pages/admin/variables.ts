import { isSensitiveName, MASK } from '../../../../core/secretsMasker.ts';
import { createVariable, deleteVariable, getVariable, listVariables, updateVariable, type VariableRow } from '../../../../db/models/variable.ts';
import { conflict, notFound } from '../../../api/problems.ts';
import { createBody as variableCreateBody, patchBody as variablePatchBody } from '../../../api/schemas/variables.ts';
import { orNull, text } from './form.ts';
import { sortBy, type Resource } from './resource.ts';

/** Variables (Op and Admin): a value whose key holds a sensitive word shows as *** and a *** sent back keeps it. */
export const variables: Resource<VariableRow> = {
  path: 'variables',
  noun: 'variable',
  title: 'Variables',
  readPermission: 'readConfig',
  list: ({ knex, fernet }, offset) => listVariables(knex, fernet, { ...sortBy('key'), offset }),
  get: ({ knex, fernet }, key) => getVariable(knex, fernet, key),
  fields: (row, entered) => [
    { name: 'key', label: 'Key', kind: 'text', value: entered ? text(entered, 'key') : (row?.key ?? ''), required: true, readonly: Boolean(row), code: true },
    {
      name: 'value',
      label: 'Value',
      kind: 'textarea',
      value: entered ? text(entered, 'value') : row && isSensitiveName(row.key) ? MASK : (row?.val ?? ''),
      code: true,
      hint: row && isSensitiveName(row.key) ? 'A secret (its key holds a sensitive word): shown as ***; leave *** to keep it.' : undefined,
    },
    { name: 'description', label: 'Description', kind: 'textarea', value: entered ? text(entered, 'description') : (row?.description ?? '') },
  ],
  async create({ knex, fernet }, body, audit) {
    const input = variableCreateBody.parse({ key: text(body, 'key'), value: text(body, 'value'), description: orNull(body, 'description') });
    const row = await createVariable(knex, fernet, { key: input.key, val: input.value, description: input.description ?? null }, audit);
    if (!row) throw conflict(`Variable '${input.key}' already exists; edit it instead`);
    return row.key;
  },
  async update({ knex, fernet }, key, body, audit) {
    const input = variablePatchBody.parse({ key, value: text(body, 'value'), description: orNull(body, 'description') });
    const keep = isSensitiveName(key) && input.value === MASK; // the form showed *** for the stored secret
    const result = await updateVariable(knex, fernet, key, { ...(keep ? {} : { val: input.value }), description: input.description ?? null }, audit);
    if (!('row' in result)) throw notFound(`Variable '${key}' not found`);
    return result.row.key;
  },
  remove: ({ knex }, key, audit) => deleteVariable(knex, key, audit),
  details: (row) => [
    ['Key', row.key],
    ['Value', isSensitiveName(row.key) ? MASK : (row.val ?? '')],
    ['Description', row.description ?? ''],
  ],
};
