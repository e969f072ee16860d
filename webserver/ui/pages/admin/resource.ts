import type { Request, Response, Router } from 'express';
import type { Knex } from 'knex';
import type { MultiFernet } from '../../../../core/crypto/fernet.ts';
import { fernetFor } from '../../../../core/crypto/fernetKey.ts';
import type { Audit } from '../../../../db/models/log.ts';
import type { Permission } from '../../../api/auth.ts';
import type { ApiContext } from '../../../api/defineRoute.ts';
import { requireUiPermission } from '../../router.ts';
import { auditOf, can, pageNumber, pager, problemOf, queryText, renderError, renderProblem } from '../listShared.ts';
import type { Body, FormField } from './form.ts';

/** One section of the admin pages (variables, connections, pools): what it knows about its objects, and its pages. */

export const ADMIN_PAGE_SIZE = 25;

/** How a section's list pages: ADMIN_PAGE_SIZE rows, sorted by `column`. */
export const sortBy = (column: string) => ({ limit: ADMIN_PAGE_SIZE, sort: { column, descending: false } });

/** The database and, read only when a page needs it, the Fernet key of secrets (a bad key then fails only those pages). */
export interface Store {
  knex: Knex;
  readonly fernet: MultiFernet;
}

/** What one admin section knows about its objects. */
/** `ListRow`: what the list shows of an object (for connections, nothing secret). */
export interface Resource<Row, ListRow = Row> {
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

/** A flash line after a change, from ?done=created|updated|deleted&name=... */
function notice(req: Request, noun: string): string | null {
  const done = queryText(req.query.done);
  const name = queryText(req.query.name, 300);
  return ['created', 'updated', 'deleted'].includes(done) && name ? `${noun[0]!.toUpperCase()}${noun.slice(1)} ${name} ${done}.` : null;
}

/** The list, create, edit and delete pages of one section, for Op and Admin (the list for `readPermission`). */
export function registerResource<Row, ListRow>(router: Router, ctx: ApiContext, resource: Resource<Row, ListRow>, rows: (list: ListRow[]) => unknown[]): void {
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
