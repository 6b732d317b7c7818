import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { ZodType } from 'zod';
import { AdminError, badRequest, validationError } from './errors.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a route handler sees: the parsed path parameters and query, and the body on demand. */
export interface AdminRequest {
  method: Method;
  path: string;
  /** `:name` segments of the route pattern, decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The body as JSON, validated by `schema` when given (a 400 naming each bad JSON path otherwise). */
  json<T = unknown>(schema?: ZodType<T>): Promise<T>;
  /** The raw body (uploads). */
  bytes(): Promise<Buffer>;
  /** For handlers that write the response themselves (event streams): return HANDLED after. */
  raw: { req: IncomingMessage; res: ServerResponse };
}

/** A non-200 answer, or one with extra headers. Anything else a handler returns is sent as 200 JSON. */
export class Reply {
  constructor(readonly status: number, readonly body: unknown, readonly headers: Record<string, string> = {}) {}
}

/** Returned by a handler that wrote the response itself. */
export const HANDLED: unique symbol = Symbol('admin.handled');

export type Handler = (req: AdminRequest) => unknown;

/** How a route is described in the OpenAPI document. */
export interface RouteDoc {
  summary: string;
  tag?: string;
  /** JSON Schema of the request body, when it takes one. */
  body?: unknown;
  /** Media type of the request body when it is not JSON (uploads). */
  bodyType?: string;
  /** JSON Schema of the 200 answer. */
  response?: unknown;
  query?: Record<string, string>;
}

export interface Route {
  method: Method;
  pattern: string;
  doc: RouteDoc;
  handler: Handler;
  segments: string[];
}

/**
 * The admin API's routes, matched segment by segment (`/api/plugins/:name/config`). Other layers
 * register theirs here (`router.get('/api/logs', ...)`); the order of registration does not matter
 * except that a literal segment wins over a parameter.
 */
export class AdminRouter {
  readonly routes: Route[] = [];

  add(method: Method, pattern: string, handler: Handler, doc: RouteDoc = { summary: '' }): this {
    if (!pattern.startsWith('/api/')) throw new Error(`admin routes live under /api/: ${pattern}`);
    if (this.routes.some((r) => r.method === method && r.pattern === pattern)) throw new Error(`admin route registered twice: ${method} ${pattern}`);
    this.routes.push({ method, pattern, handler, doc, segments: pattern.split('/').slice(1) });
    // Literal segments before parameters, so /api/plugins/order is not taken for a plugin named "order".
    this.routes.sort((a, b) => specificity(b) - specificity(a));
    return this;
  }

  get(pattern: string, handler: Handler, doc?: RouteDoc): this { return this.add('GET', pattern, handler, doc); }
  post(pattern: string, handler: Handler, doc?: RouteDoc): this { return this.add('POST', pattern, handler, doc); }
  put(pattern: string, handler: Handler, doc?: RouteDoc): this { return this.add('PUT', pattern, handler, doc); }
  patch(pattern: string, handler: Handler, doc?: RouteDoc): this { return this.add('PATCH', pattern, handler, doc); }
  delete(pattern: string, handler: Handler, doc?: RouteDoc): this { return this.add('DELETE', pattern, handler, doc); }

  /** The route for a method and path, its parameters, or which methods the path accepts. */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | { allow: Method[] } {
    const parts = path.split('/').slice(1);
    const allow: Method[] = [];
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params };
      allow.push(route.method);
    }
    return { allow };
  }
}

function specificity(r: Route): number {
  let n = 0;
  for (const s of r.segments) n = n * 2 + (s.startsWith(':') ? 0 : 1);
  return n + r.segments.length * 1e6;
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    const v = parts[i] as string;
    if (p.startsWith(':')) {
      if (v === '') return null;
      try {
        params[p.slice(1)] = decodeURIComponent(v);
      } catch {
        return null;
      }
    } else if (p !== v) return null;
  }
  return params;
}

/** Parses a body as JSON and validates it; the errors name JSON paths. */
export function parseJson<T>(bytes: Buffer, schema?: ZodType<T>): T {
  let value: unknown;
  if (bytes.length === 0) value = undefined;
  else {
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw badRequest(`the request body is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (!schema) return value as T;
  const r = schema.safeParse(value);
  if (!r.success) throw validationError(r.error);
  return r.data;
}

export { AdminError };
