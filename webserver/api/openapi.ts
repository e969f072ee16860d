import { z } from 'zod';
import { VERSION } from '../../core/version.ts';
import type { Route } from './defineRoute.ts';

/**
 * Our OpenAPI document, generated from the route declarations themselves, so
 * it lists exactly what is implemented: paths, parameters and bodies from
 * their zod schemas.
 */
export function openApiDocument(routes: Route<any, any, any>[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters = [
      ...fields(route.params).map(([name, schema]) => ({ name, in: 'path', required: true, schema })),
      ...fields(route.query).map(([name, schema, required]) => ({ name, in: 'query', required, schema })),
    ];
    const responses: Record<string, unknown> = { 200: { description: 'Success' } };
    for (const [status, description] of Object.entries(route.responses ?? {})) responses[status] = { description };
    if (route.permission !== 'public') {
      responses[401] = { description: 'Missing or wrong credentials' };
      responses[403] = { description: "The user's role does not allow this" };
    }
    if (route.params || route.query || route.body) responses[400] = { description: 'Invalid request' };
    (paths[route.path] ??= {})[route.method] = {
      summary: route.summary,
      tags: [route.tag],
      parameters,
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body) } } } } : {}),
      responses,
      ...(route.permission === 'public' ? { security: [] } : {}),
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'airflow-ts REST API', version: VERSION, description: "Shaped like Apache Airflow's stable REST API v1." },
    servers: [{ url: '/api/v1' }],
    security: [{ Basic: [] }],
    components: { securitySchemes: { Basic: { type: 'http', scheme: 'basic' } } },
    paths,
  };
}

function fields(schema: z.ZodType | undefined): [string, unknown, boolean][] {
  if (!schema || !(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => [name, jsonSchema(field), !field.safeParse(undefined).success]);
}

function jsonSchema(schema: z.ZodType): unknown {
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  } catch {
    return {};
  }
}
