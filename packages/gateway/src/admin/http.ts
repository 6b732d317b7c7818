import type { IncomingMessage, ServerResponse } from 'node:http';
import { isGatewayError } from '../schema/errors.js';
import type { Logger } from '../observability/log.js';
import { readBody } from '../transport/body.js';
import type { Mount } from '../transport/server.js';
import type { AdminAuth } from './auth.js';
import { AdminError } from './errors.js';
import { HANDLED, Reply, parseJson, type AdminRequest, type AdminRouter, type Method } from './router.js';

export interface AdminHttpOptions {
  router: AdminRouter;
  auth: AdminAuth;
  log: Logger;
  /** Largest body the API reads (uploaded .wasm files are the big ones). */
  maxBodyBytes: number;
  bodyTimeoutMs: number;
}

/** Mounts the admin router at `/api` on the gateway's HTTP server. */
export function adminMount(opts: AdminHttpOptions): Mount {
  return {
    prefix: '/api',
    handle: (req, res, path, search) => serveAdmin(opts, req, res, path, search),
  };
}

async function serveAdmin(opts: AdminHttpOptions, req: IncomingMessage, res: ServerResponse, path: string, search: string): Promise<void> {
  const denied = opts.auth.check(req);
  if (denied) {
    req.resume();
    return send(res, new AdminError(denied.status, denied.status === 401 ? 'unauthorized' : 'forbidden', denied.message), denied.status === 401 ? { 'www-authenticate': 'Bearer realm="gatehouse-admin"' } : {});
  }
  const found = opts.router.match(req.method ?? 'GET', path);
  if (!('route' in found)) {
    req.resume();
    if (found.allow.length === 0) return send(res, new AdminError(404, 'not_found', `no admin route for ${req.method} ${path}`));
    return send(res, new AdminError(405, 'method_not_allowed', `${path} accepts ${found.allow.join(', ')}`), { allow: found.allow.join(', ') });
  }
  let body: Promise<Buffer> | undefined;
  const bytes = (): Promise<Buffer> => (body ??= readBody(req, opts.maxBodyBytes, opts.bodyTimeoutMs));
  const areq: AdminRequest = {
    method: found.route.method as Method,
    path,
    params: found.params,
    query: new URLSearchParams(search),
    headers: req.headers,
    bytes,
    json: async (schema) => parseJson(await bytes(), schema),
    raw: { req, res },
  };
  try {
    const out = await found.route.handler(areq);
    if (out === HANDLED) return;
    if (body === undefined) req.resume();
    if (out instanceof Reply) return sendJson(res, out.status, out.body, out.headers);
    sendJson(res, 200, out ?? { ok: true });
  } catch (err) {
    if (body === undefined) req.resume();
    if (err instanceof AdminError) return send(res, err);
    if (isGatewayError(err)) return send(res, new AdminError(err.status, err.code, err.message));
    opts.log.error({ route: `${found.route.method} ${found.route.pattern}`, err: err instanceof Error ? err.message : String(err) }, 'admin API handler failed');
    send(res, new AdminError(500, 'internal', 'internal error in the admin API'));
  }
}

function send(res: ServerResponse, e: AdminError, headers: Record<string, string> = {}): void {
  sendJson(res, e.status, e.toBody(), headers);
}

function sendJson(res: ServerResponse, status: number, obj: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const text = status === 204 ? '' : JSON.stringify(obj);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}
