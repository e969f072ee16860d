import { redactExtra, unmaskExtra } from '../../../../core/connectionExtra.ts';
import {
  createConnection,
  deleteConnection,
  getConnection,
  listConnections,
  updateConnection,
  type ConnectionChanges,
  type ConnectionListItem,
  type ConnectionRow,
} from '../../../../db/models/connection.ts';
import { conflict, notFound } from '../../../api/problems.ts';
import { createBody as connectionCreateBody, patchBody as connectionPatchBody } from '../../../api/schemas/connections.ts';
import { checked, numberOrText, orNull, text, type Body } from './form.ts';
import { sortBy, type Resource } from './resource.ts';

/** Connections (Op and Admin): the password never reaches a page (empty keeps it); extra shows sensitive keys as ***. */
const CONNECTION_TEXT_FIELDS = ['conn_type', 'description', 'host', 'schema', 'login', 'extra'] as const;

export const connections: Resource<ConnectionRow, ConnectionListItem> = {
  path: 'connections',
  noun: 'connection',
  title: 'Connections',
  readPermission: 'readConfig',
  list: ({ knex }, offset) => listConnections(knex, { ...sortBy('conn_id'), offset }),
  get: ({ knex, fernet }, id) => getConnection(knex, fernet, id),
  fields: (row, entered) => {
    const value = (name: string, stored: string | number | null | undefined) =>
      entered ? text(entered, name) : stored === null || stored === undefined ? '' : String(stored);
    return [
      {
        name: 'connection_id',
        label: 'Connection id',
        kind: 'text',
        value: value('connection_id', row?.conn_id),
        required: true,
        readonly: Boolean(row),
        code: true,
      },
      {
        name: 'conn_type',
        label: 'Connection type',
        kind: 'text',
        value: value('conn_type', row?.conn_type),
        required: true,
        placeholder: 'postgres, http, aws, …',
      },
      { name: 'description', label: 'Description', kind: 'textarea', value: value('description', row?.description) },
      { name: 'host', label: 'Host', kind: 'text', value: value('host', row?.host) },
      { name: 'schema', label: 'Schema', kind: 'text', value: value('schema', row?.schema) },
      { name: 'login', label: 'Login', kind: 'text', value: value('login', row?.login) },
      // Never the stored password, not even on a re-rendered form: empty means "keep".
      {
        name: 'password',
        label: 'Password',
        kind: 'password',
        value: '',
        hint: row ? 'Leave empty to keep the stored password.' : 'Stored, never shown again.',
      },
      ...(row
        ? [
            {
              name: 'clear_password',
              label: 'Remove the stored password',
              kind: 'checkbox' as const,
              checked: entered ? checked(entered, 'clear_password') : false,
            },
          ]
        : []),
      { name: 'port', label: 'Port', kind: 'number', value: value('port', row?.port) },
      {
        name: 'extra',
        label: 'Extra (JSON)',
        kind: 'textarea',
        value: value('extra', redactExtra(row?.extra ?? null)),
        code: true,
        hint: row ? 'Sensitive values show as ***; leave a *** as it is to keep the stored secret.' : undefined,
      },
    ];
  },
  async create({ knex, fernet }, body, audit) {
    const raw: Body = { connection_id: text(body, 'connection_id'), conn_type: text(body, 'conn_type') };
    for (const name of ['description', 'host', 'schema', 'login', 'password', 'extra']) if (text(body, name)) raw[name] = text(body, name);
    if (text(body, 'port').trim()) raw.port = numberOrText(text(body, 'port'));
    const { connection_id, ...rest } = connectionCreateBody.parse(raw);
    const values = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as ConnectionChanges & { conn_type: string };
    const row = await createConnection(knex, fernet, { conn_id: connection_id, ...values }, audit);
    if (!row) throw conflict(`Connection '${connection_id}' already exists; edit it instead`);
    return row.conn_id;
  },
  async update({ knex, fernet }, id, body, audit) {
    const raw: Body = { connection_id: id, port: text(body, 'port').trim() ? numberOrText(text(body, 'port')) : null };
    for (const name of CONNECTION_TEXT_FIELDS) raw[name] = name === 'conn_type' ? text(body, name) : orNull(body, name);
    if (checked(body, 'clear_password')) raw.password = null;
    else if (text(body, 'password')) raw.password = text(body, 'password');
    const input = connectionPatchBody.parse(raw);
    type Field = 'conn_type' | 'description' | 'host' | 'schema' | 'login' | 'port' | 'extra' | 'password';
    const names: Field[] = [
      'conn_type',
      'description',
      'host',
      'schema',
      'login',
      'port',
      'extra',
      ...(input.password !== undefined ? (['password'] as const) : []),
    ];
    const result = await updateConnection(
      knex,
      fernet,
      id,
      (existing) => {
        const changes: Record<string, unknown> = Object.fromEntries(names.map((f) => [f, input[f]]));
        changes.extra = unmaskExtra(input.extra ?? null, existing.extra); // a *** sent back keeps the stored secret
        return changes as ConnectionChanges;
      },
      names,
      audit,
    );
    if (!('row' in result)) throw notFound(`Connection '${id}' not found`);
    return result.row.conn_id;
  },
  remove: ({ knex }, id, audit) => deleteConnection(knex, id, audit),
  details: (row) => [
    ['Connection id', row.conn_id],
    ['Type', row.conn_type],
    ['Host', row.host ?? ''],
    ['Description', row.description ?? ''],
  ],
};
