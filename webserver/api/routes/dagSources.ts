import { z } from 'zod';
import { pgText } from '../../../db/models/base.ts';
import { dagSourceByToken } from '../../../db/models/dagCode.ts';
import { defineRoute, Reply } from '../defineRoute.ts';
import { ApiProblem, notFound } from '../problems.ts';

/**
 * The source of a DAG file, by the opaque file_token of GET /dags (dag_code,
 * written by the DAG processor; never read from disk here). Content
 * negotiation as Airflow: `Accept: text/plain` gives the text, JSON
 * `{content}` otherwise (no Accept header, any type, application/json); an Accept
 * header allowing neither gets 406.
 */
export const dagSourcesRoutes = [
  defineRoute({
    method: 'get',
    path: '/dagSources/{file_token}',
    summary: "Get a DAG file's source: text/plain or JSON {content}, by the Accept header",
    tag: 'DAG',
    permission: 'read',
    params: z.object({ file_token: pgText }),
    responses: { 404: 'No DAG file has this token', 406: 'The Accept header allows neither application/json nor text/plain' },
    handler: async ({ params, req }, { knex }) => {
      const row = await dagSourceByToken(knex, params.file_token);
      if (!row) throw notFound(`No DAG source for file token '${params.file_token}'`);
      const type = req.accepts(['application/json', 'text/plain']);
      if (type === 'text/plain') return new Reply(200, row.source_code, 'text/plain');
      if (type === 'application/json') return { content: row.source_code };
      throw new ApiProblem(406, 'Not Acceptable', 'This endpoint answers application/json or text/plain');
    },
  }),
];
