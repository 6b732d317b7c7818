import type { LogCursor, LogFilter, LogStore } from '../../stores/log-store.js';
import type { RequestLogStats } from '../../observability/request-log.js';
import { badRequest, notFound } from '../errors.js';
import type { AdminRouter } from '../router.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;
const OUTCOMES = new Set(['ok', 'modified', 'short_circuit', 'error', 'skipped', 'timeout', 'trap']);

/** GET /api/logs (filters, cursor pages) and GET /api/logs/:request_id (one request with its plugin trace). */
export function registerLogRoutes(router: AdminRouter, store: LogStore, stats: () => RequestLogStats): void {
  router.get('/api/logs', async (req) => {
    const filter = parseFilter(req.query);
    const page = await store.list(filter);
    return { logs: page.rows, next_cursor: page.next ? encodeCursor(page.next) : null, store: { kind: store.kind, ...stats() } };
  }, {
    summary: 'Recorded requests, newest first',
    tag: 'logs',
    query: {
      from: 'start of the time range (ISO 8601 or ms since the epoch), inclusive',
      to: 'end of the time range, exclusive',
      provider: 'provider name', model: 'model as routed', status: 'HTTP status',
      plugin: 'requests whose trace has a call by this plugin', outcome: 'a hook outcome (with plugin: by that plugin)',
      virtual_key: 'virtual key id', q: 'text in a stored request or response body',
      limit: `rows per page (1-${MAX_LIMIT}, default ${DEFAULT_LIMIT})`, cursor: 'next_cursor of the previous page',
    },
  });
  router.get('/api/logs/:request_id', async (req) => {
    const row = await store.get(req.params.request_id as string);
    if (!row) throw notFound(`no logged request with id "${req.params.request_id}"`);
    return row;
  }, { summary: 'One recorded request with its plugin trace', tag: 'logs' });
}

function parseFilter(q: URLSearchParams): LogFilter {
  const known = new Set(['from', 'to', 'provider', 'model', 'status', 'plugin', 'outcome', 'virtual_key', 'q', 'limit', 'cursor']);
  for (const k of q.keys()) if (!known.has(k)) throw badRequest(`unknown query parameter "${k}" (known: ${[...known].join(', ')})`);
  const str = (k: string): string | undefined => q.get(k) ?? undefined;
  const f: LogFilter = { limit: DEFAULT_LIMIT };
  const from = str('from');
  const to = str('to');
  if (from !== undefined) f.from = time('from', from);
  if (to !== undefined) f.to = time('to', to);
  for (const k of ['provider', 'model', 'plugin', 'virtual_key', 'q'] as const) {
    const v = str(k);
    if (v !== undefined) f[k] = v;
  }
  const outcome = str('outcome');
  if (outcome !== undefined) {
    if (!OUTCOMES.has(outcome)) throw badRequest(`outcome: one of ${[...OUTCOMES].join(', ')}`);
    f.outcome = outcome;
  }
  const status = str('status');
  if (status !== undefined) {
    if (!/^[1-5]\d\d$/.test(status)) throw badRequest('status: an HTTP status code (100-599)');
    f.status = Number(status);
  }
  const limit = str('limit');
  if (limit !== undefined) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw badRequest(`limit: a whole number from 1 to ${MAX_LIMIT}`);
    f.limit = n;
  }
  const cursor = str('cursor');
  if (cursor !== undefined) f.cursor = decodeCursor(cursor);
  return f;
}

function time(name: string, v: string): number {
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) throw badRequest(`${name}: an ISO 8601 time or milliseconds since the epoch`);
  return n;
}

function encodeCursor(c: LogCursor): string {
  return Buffer.from(`${c.started_at}.${c.seq}`).toString('base64url');
}

function decodeCursor(s: string): LogCursor {
  const m = /^(\d+)\.(\d+)$/.exec(Buffer.from(s, 'base64url').toString());
  if (!m) throw badRequest('cursor: not a next_cursor this API returned');
  return { started_at: Number(m[1]), seq: Number(m[2]) };
}
