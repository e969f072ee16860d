import type { Request, Response, Router } from 'express';
import type { Knex } from 'knex';
import {
  createConnection,
  deleteConnection,
  getConnection,
  listConnections,
  updateConnection,
  type ConnectionChanges,
  type ConnectionListItem,
  type ConnectionRow,
} from '../../../db/models/connection.ts';
import { createPool, deletePool, DEFAULT_POOL, getPool, listPools, updatePool, type PoolChanges, type PoolRow } from '../../../db/models/pool.ts';
import { createVariable, deleteVariable, getVariable, listVariables, updateVariable, type VariableRow } from '../../../db/models/variable.ts';
import type { Audit } from '../../../db/models/log.ts';
import type { MultiFernet } from '../../../core/crypto/fernet.ts';
import { redactExtra, unmaskExtra } from '../../../core/connectionExtra.ts';
import { fernetFor } from '../../../core/crypto/fernetKey.ts';
import { isSensitiveName, MASK } from '../../../core/secretsMasker.ts';
import type { Permission } from '../../api/auth.ts';
import type { ApiContext } from '../../api/defineRoute.ts';
import { conflict, notFound } from '../../api/problems.ts';
import { poolJson } from '../../api/mappers/pool.ts';
import { createBody as connectionCreateBody, patchBody as connectionPatchBody } from '../../api/schemas/connections.ts';
import { createBody as poolCreateBody, patchBody as poolPatchBody } from '../../api/schemas/pools.ts';
import { createBody as variableCreateBody, patchBody as variablePatchBody } from '../../api/schemas/variables.ts';
import { requireUiPermission, type UiPages } from '../router.ts';
import { auditOf, can, pageNumber, pager, problemOf, queryText, renderError, renderProblem } from './listShared.ts';

/**
 * Admin pages: variables, connections and pools. Variables and connections for Op and Admin only
 * (as Airflow's roles: they hold secrets); the pool list for every role; create, edit and delete
 * (after a confirmation page) for Op and Admin. Input
 * goes through the REST API's request schemas and the same data functions
 * (db/models/variable.ts, connection.ts, pool.ts), so the rules and the audit log are the API's.
 * Connection passwords never reach a page: an empty password field keeps the
 * stored one; extra is shown with sensitive keys masked, and a masked value
 * sent back keeps the stored secret (as the API's PATCH does).
 */

export const ADMIN_PAGE_SIZE = 25;

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

type Body = Record<string, unknown>;

/** The database and, read only when a page needs it, the Fernet key of secrets (a bad key then fails only those pages). */
interface Store {
  knex: Knex;
  readonly fernet: MultiFernet;
}

/** What one admin section knows about its objects. */
/** `ListRow`: what the list shows of an object (for connections, nothing secret). */
interface Resource<Row, ListRow = Row> {
  /** URL segment under /admin/ and the view of its list. */
  path: 'variables' | 'connections' | 'pools';
  noun: string;
  title: string;
  /** Who may see the list. */
  readPermission: Permission;
  list(store: Store, offset: number): Promise<{ rows: ListRow[]; total: number }>;
  get(store: Store, id: string): Promise<Row | undefined>;
  fields(row: Row | undefined, entered: Body | undefined): FormField[];
  /** Creates from the form; returns the new object's id. Throws ZodError, ApiProblem or a domain error. */
  create(store: Store, body: Body, audit: Audit): Promise<string>;
  update(store: Store, id: string, body: Body, audit: Audit): Promise<string>;
  remove(store: Store, id: string, audit: Audit): Promise<boolean>;
  /** Shown on the delete confirmation page. */
  details(row: Row): [string, string][];
  deletable?(id: string): boolean;
}

const text = (body: Body | undefined, name: string): string => {
  const value = body?.[name];
  return typeof value === 'string' ? value : '';
};
/** An optional text field: empty means null. */
const orNull = (body: Body, name: string): string | null => text(body, name) || null;
/** A number field as the API would receive it from JSON (a non-number stays a string, so the schema reports it). */
const numberOrText = (value: string): number | string => (/^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value);
const checked = (body: Body, name: string): boolean => body[name] === 'on' || body[name] === 'true';
const sortBy = (column: string) => ({ limit: ADMIN_PAGE_SIZE, sort: { column, descending: false } });

const variables: Resource<VariableRow> = {
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

const CONNECTION_TEXT_FIELDS = ['conn_type', 'description', 'host', 'schema', 'login', 'extra'] as const;

const connections: Resource<ConnectionRow, ConnectionListItem> = {
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

const pools: Resource<PoolRow> = {
  path: 'pools',
  noun: 'pool',
  title: 'Pools',
  readPermission: 'read',
  list: ({ knex }, offset) => listPools(knex, { ...sortBy('pool'), offset }),
  get: ({ knex }, name) => getPool(knex, name),
  fields: (row, entered) => [
    {
      name: 'name',
      label: 'Name',
      kind: 'text',
      value: entered ? text(entered, 'name') : (row?.pool ?? ''),
      required: true,
      readonly: row?.pool === DEFAULT_POOL,
      code: true,
    },
    { name: 'slots', label: 'Slots', kind: 'number', value: entered ? text(entered, 'slots') : String(row?.slots ?? 128), required: true },
    { name: 'description', label: 'Description', kind: 'textarea', value: entered ? text(entered, 'description') : (row?.description ?? '') },
    {
      name: 'include_deferred',
      label: 'Deferred tasks take slots',
      kind: 'checkbox',
      checked: entered ? checked(entered, 'include_deferred') : (row?.include_deferred ?? false),
    },
  ],
  async create({ knex }, body, audit) {
    const input = poolCreateBody.parse({
      name: text(body, 'name'),
      slots: numberOrText(text(body, 'slots')),
      description: orNull(body, 'description'),
      include_deferred: checked(body, 'include_deferred'),
    });
    const row = await createPool(
      knex,
      { pool: input.name, slots: input.slots, description: input.description ?? null, include_deferred: input.include_deferred ?? false },
      audit,
    );
    if (!row) throw conflict(`Pool '${input.name}' already exists; edit it instead`);
    return row.pool;
  },
  async update({ knex }, name, body, audit) {
    const input = poolPatchBody.parse({
      name: text(body, 'name') || name,
      slots: numberOrText(text(body, 'slots')),
      description: orNull(body, 'description'),
      include_deferred: checked(body, 'include_deferred'),
    });
    const changes: PoolChanges = {
      pool: input.name,
      slots: input.slots,
      description: input.description ?? null,
      include_deferred: input.include_deferred ?? false,
    };
    const result = await updatePool(knex, name, changes, audit); // default_pool cannot be renamed: 400
    if ('missing' in result) throw notFound(`Pool '${name}' not found`);
    if ('duplicate' in result) throw conflict(`Pool '${changes.pool}' already exists`);
    return result.row.pool;
  },
  remove: ({ knex }, name, audit) => deletePool(knex, name, audit),
  details: (row) => [
    ['Name', row.pool],
    ['Slots', String(row.slots)],
    ['Running / queued slots', `${row.running_slots} / ${row.queued_slots}`],
  ],
  deletable: (name) => name !== DEFAULT_POOL,
};

/** A flash line after a change, from ?done=created|updated|deleted&name=... */
function notice(req: Request, noun: string): string | null {
  const done = queryText(req.query.done);
  const name = queryText(req.query.name, 300);
  return ['created', 'updated', 'deleted'].includes(done) && name ? `${noun[0]!.toUpperCase()}${noun.slice(1)} ${name} ${done}.` : null;
}

function register<Row, ListRow>(router: Router, ctx: ApiContext, resource: Resource<Row, ListRow>, rows: (list: ListRow[]) => unknown[]): void {
  const { knex, config, logger, now } = ctx;
  const store: Store = {
    knex,
    get fernet() {
      return fernetFor(config, logger);
    },
  };
  const base = `/admin/${resource.path}`;
  const itemPath = (id: string, rest = '') => `${base}/${encodeURIComponent(id)}${rest}`;
  const guard = requireUiPermission('editConfig');
  const done = (what: string, id: string) => `${base}?done=${what}&name=${encodeURIComponent(id)}`;

  const renderForm = (res: Response, options: { row?: Row; id?: string; entered?: Body; error?: string; status?: number }) =>
    res.status(options.status ?? 200).render('admin/form', {
      title: options.id === undefined ? `New ${resource.noun}` : `Edit ${resource.noun} ${options.id}`,
      section: resource.path,
      heading: options.id === undefined ? `New ${resource.noun}` : `Edit ${resource.noun}`,
      subject: options.id ?? null,
      action: options.id === undefined ? base : itemPath(options.id),
      fields: resource.fields(options.row, options.entered),
      error: options.error ?? null,
      cancelHref: base,
      submitLabel: options.id === undefined ? 'Create' : 'Save',
    });

  router.get(base, requireUiPermission(resource.readPermission), async (req, res) => {
    try {
      const requested = pageNumber(req.query.page);
      let { rows: list, total } = await resource.list(store, (requested - 1) * ADMIN_PAGE_SIZE);
      const page = pager(requested, total, ADMIN_PAGE_SIZE);
      if (page.page !== requested) ({ rows: list, total } = await resource.list(store, (page.page - 1) * ADMIN_PAGE_SIZE));
      res.render(`admin/${resource.path}`, {
        title: resource.title,
        section: resource.path,
        rows: rows(list),
        page,
        pageHref: (n: number) => (n > 1 ? `${base}?page=${n}` : base),
        canEdit: can(req, 'editConfig'),
        notice: notice(req, resource.noun),
        itemPath,
        deletable: resource.deletable ?? (() => true),
      });
    } catch (error) {
      renderProblem(res, req, logger, error);
    }
  });

  router.get(`${base}/new`, guard, (_req, res) => renderForm(res, {}));

  router.post(base, guard, async (req, res) => {
    try {
      const id = await resource.create(store, req.body ?? {}, auditOf(req, now));
      res.redirect(303, done('created', id));
    } catch (error) {
      const { status, message } = problemOf(error, logger, req);
      if (status >= 500) return renderError(res, status, message);
      renderForm(res, { entered: req.body ?? {}, error: message, status });
    }
  });

  router.get(`${base}/:id/edit`, guard, async (req, res) => {
    const id = req.params.id as string;
    try {
      const row = await resource.get(store, id);
      if (!row) return renderError(res, 404, `No ${resource.noun} '${id}'`);
      renderForm(res, { row, id });
    } catch (error) {
      renderProblem(res, req, logger, error);
    }
  });

  router.post(`${base}/:id`, guard, async (req, res) => {
    const id = req.params.id as string;
    try {
      const newId = await resource.update(store, id, req.body ?? {}, auditOf(req, now));
      res.redirect(303, done('updated', newId));
    } catch (error) {
      const { status, message } = problemOf(error, logger, req);
      if (status >= 500 || status === 404) return renderError(res, status, message);
      renderForm(res, { row: await resource.get(store, id), id, entered: req.body ?? {}, error: message, status });
    }
  });

  router.get(`${base}/:id/delete`, guard, async (req, res) => {
    const id = req.params.id as string;
    try {
      const row = await resource.get(store, id);
      if (!row) return renderError(res, 404, `No ${resource.noun} '${id}'`);
      res.render('admin/delete', {
        title: `Delete ${resource.noun} ${id}`,
        section: resource.path,
        noun: resource.noun,
        subject: id,
        details: resource.details(row),
        action: itemPath(id, '/delete'),
        cancelHref: base,
        deletable: (resource.deletable ?? (() => true))(id),
      });
    } catch (error) {
      renderProblem(res, req, logger, error);
    }
  });

  router.post(`${base}/:id/delete`, guard, async (req, res) => {
    const id = req.params.id as string;
    try {
      if (!(await resource.remove(store, id, auditOf(req, now)))) return renderError(res, 404, `No ${resource.noun} '${id}'`);
      res.redirect(303, done('deleted', id));
    } catch (error) {
      renderProblem(res, req, logger, error);
    }
  });
}

export const adminPages: UiPages = (router, ctx) => {
  router.get('/admin', (req, res) => res.redirect(can(req, 'readConfig') ? '/admin/variables' : '/admin/pools'));
  // A variable whose key holds a sensitive word shows *** (as Airflow's UI).
  register(router, ctx, variables, (list) => list.map((row) => (isSensitiveName(row.key) ? { ...row, val: MASK } : row)));
  register(router, ctx, connections, (list) =>
    // Only what the list shows: never the password, and extra not at all (as the API's list).
    list.map(({ conn_id, conn_type, description, host, schema, login, port }) => ({ conn_id, conn_type, description, host, schema, login, port })),
  );
  register(router, ctx, pools, (list) => list.map(poolJson));
};
