import type { AdminRouter } from './router.js';

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        issues: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
      },
    },
  },
};

/** The OpenAPI 3.1 document of every route registered on the router, built when asked for. */
export function openApiDocument(router: AdminRouter, version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of [...router.routes].sort((a, b) => a.pattern.localeCompare(b.pattern))) {
    const oaPath = r.pattern.replace(/:([A-Za-z_]+)/g, '{$1}');
    const params = [...r.pattern.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    for (const [name, description] of Object.entries(r.doc.query ?? {})) params.push({ name, in: 'query', required: false, schema: { type: 'string' }, description } as never);
    const op: Record<string, unknown> = {
      summary: r.doc.summary,
      tags: r.doc.tag ? [r.doc.tag] : undefined,
      parameters: params.length ? params : undefined,
      responses: {
        200: { description: 'OK', content: { 'application/json': { schema: r.doc.response ?? {} } } },
        '4XX': { description: 'Bad input, unknown item, or not allowed', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
    if (r.doc.body !== undefined || r.doc.bodyType) {
      op.requestBody = { required: true, content: { [r.doc.bodyType ?? 'application/json']: { schema: r.doc.body ?? { type: 'string', format: 'binary' } } } };
    }
    (paths[oaPath] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Gatehouse admin API', version },
    servers: [{ url: '/' }],
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'admin.token from the config' } },
    },
    security: [{ adminToken: [] }],
    paths,
  };
}
