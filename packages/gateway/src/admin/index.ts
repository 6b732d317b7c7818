import type { Logger } from '../observability/log.js';
import type { Mount } from '../transport/server.js';
import { createAdminAuth, type AdminAuth } from './auth.js';
import { adminMount } from './http.js';
import { openApiDocument } from './openapi.js';
import { AdminRouter } from './router.js';

export { AdminRouter, HANDLED, Reply, parseJson, type AdminRequest, type Handler, type RouteDoc } from './router.js';
export { AdminError, badRequest, conflict, notFound, validationError, type AdminIssue } from './errors.js';

export interface AdminLayer {
  /** Register routes here: `admin.router.get('/api/logs', handler, { summary: 'Request logs', tag: 'logs' })`. */
  router: AdminRouter;
  auth: AdminAuth;
  /** What the HTTP server mounts at /api. */
  mount: Mount;
}

export interface AdminOptions {
  token: string | undefined;
  log: Logger;
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  version?: string;
}

/** The admin API: the router, its auth and the OpenAPI document of whatever gets registered. */
export function createAdmin(opts: AdminOptions): AdminLayer {
  const router = new AdminRouter();
  const auth = createAdminAuth(opts.token);
  router.get('/api/openapi.json', () => openApiDocument(router, opts.version ?? '0'), { summary: 'This document', tag: 'meta' });
  if (!auth.hasToken) {
    opts.log.warn({}, 'admin API: no admin.token configured; /api/* answers only clients on loopback (127.0.0.1, ::1)');
  }
  return {
    router,
    auth,
    mount: adminMount({ router, auth, log: opts.log, maxBodyBytes: opts.maxBodyBytes, bodyTimeoutMs: opts.bodyTimeoutMs }),
  };
}
