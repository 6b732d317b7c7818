import { randomUUID } from 'node:crypto';
import { STATUS_CODES, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Gateway } from '../core/gateway.js';
import { runInference } from '../core/lifecycle.js';
import { GatewayError, isGatewayError } from '../schema/errors.js';
import type { FrontCodec } from '../core/front.js';
import { errorBody, type FrontName } from '../schema/front-errors.js';
import type { RequestType } from '../schema/request.js';
import { frontOfPath, matchFrontRoute } from './fronts/routes.js';
import { readBody } from './body.js';
import { HttpResponseSink } from './sink.js';

/**
 * The HTTP edge, on node:http directly rather than fastify: measured side by side on this 2-core
 * machine (wrk, 50 connections, POST of a chat body answered with 633 bytes, server pinned to one
 * core, 3 interleaved rounds), fastify 5 served 0.56-0.87x (median 0.71x) the requests/s of plain
 * node:http, and the gateway's whole budget is 0.7x of a bare node:http proxy. A handful of fixed
 * routes need no router, and the stream path wants the raw response for backpressure.
 * Everything past parsing the URL and reading the body is the core's.
 */
const INFERENCE_ROUTES: Record<string, RequestType> = {
  '/v1/chat/completions': 'chat_completion',
  '/v1/completions': 'text_completion',
  '/v1/embeddings': 'embedding',
  // Some clients omit the version segment.
  '/chat/completions': 'chat_completion',
  '/completions': 'text_completion',
  '/embeddings': 'embedding',
};

const GET_ROUTES = new Set(['/health', '/v1/models', '/models']);

/**
 * Something served beside the inference routes under a path prefix (the admin API at /api, the UI
 * at /ui). Checked only after the inference route lookup missed, so the hot path pays nothing.
 */
export interface Mount {
  prefix: string;
  handle(req: IncomingMessage, res: ServerResponse, path: string, search: string): Promise<void>;
}

export interface GatewayServerOptions {
  mounts?: Mount[];
}

export interface GatewayServer {
  server: Server;
  mounts: Mount[];
  /** Set while shutting down: new requests get 503. */
  draining: boolean;
  /** Streams being written; shutdown cuts the ones still open after its grace period. */
  streams: Set<HttpResponseSink>;
}

/** Ends every open stream with a GH_ERR_SHUTTING_DOWN error event; returns how many. */
export function cutStreams(state: GatewayServer): number {
  const event = JSON.stringify(new GatewayError('GH_ERR_SHUTTING_DOWN', 'the gateway is shutting down; the stream was cut at the end of the shutdown grace period').toBody());
  const open = [...state.streams];
  for (const s of open) s.cut(event);
  return open.length;
}

export function createGatewayServer(gw: Gateway, opts: GatewayServerOptions = {}): GatewayServer {
  const state: GatewayServer = { server: undefined as unknown as Server, mounts: opts.mounts ?? [], draining: false, streams: new Set() };
  const { headersTimeoutMs, maxHeaderBytes } = gw.config;
  state.server = createServer({
    keepAliveTimeout: 65_000,
    // The body has its own deadline (readBody); the whole exchange has none, streams may be long.
    requestTimeout: 0,
    // Headers that trickle in are cut off; node checks pending connections every interval.
    headersTimeout: headersTimeoutMs,
    connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(headersTimeoutMs / 4))),
    maxHeaderSize: maxHeaderBytes,
  }, (req, res) => {
    handle(gw, state, req, res).catch((err) => {
      gw.log.error({ err: err instanceof Error ? err.message : String(err) }, 'unhandled error in request handler');
      sendError(res, new GatewayError('GH_ERR_INTERNAL', 'internal error'));
    });
  });
  state.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => onClientError(gw, err, socket));
  return state;
}

/**
 * What node's HTTP parser refuses before any handler runs (headers too large, headers too slow,
 * malformed request line) gets a JSON error like every other answer, then the connection closes.
 * Node's own answer would be a bare status line with no body.
 */
function onClientError(gw: Gateway, err: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  // Nobody to answer, or a response already started on this socket: writing would corrupt it.
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const e = clientErrorOf(gw, err.code);
  gw.log.debug({ code: err.code, status: e.status }, 'refused a malformed or slow request');
  const body = JSON.stringify(e.toBody());
  socket.end(`HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  // The answer is a few hundred bytes: it is in the kernel at once. Do not wait on a client that never reads.
  const t = setTimeout(() => socket.destroy(), 1000);
  t.unref();
  socket.once('close', () => clearTimeout(t));
}

function clientErrorOf(gw: Gateway, code: string | undefined): GatewayError {
  const { headersTimeoutMs, maxHeaderBytes } = gw.config;
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new GatewayError('GH_ERR_HEADERS_TOO_LARGE', `request headers are larger than the limit of ${Math.round(maxHeaderBytes / 1024)} KB (client.max_header_size_kb)`);
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new GatewayError('GH_ERR_BODY_TOO_LARGE', 'chunk extensions of the request body are too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new GatewayError('GH_ERR_REQUEST_TIMEOUT', `request headers not received within ${headersTimeoutMs / 1000} s (client.request_headers_timeout_seconds)`);
    default:
      return new GatewayError('GH_ERR_INVALID_REQUEST', `malformed HTTP request${code ? ` (${code})` : ''}`);
  }
}

async function handle(gw: Gateway, state: GatewayServer, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const requestType = INFERENCE_ROUTES[path];
  if (requestType === undefined && state.mounts.length > 0) {
    const mount = mountOf(state.mounts, path);
    if (mount) return mount.handle(req, res, path, q === -1 ? '' : url.slice(q + 1));
  }
  if (requestType === undefined && !GET_ROUTES.has(path)) return handleFront(gw, state, req, res, path, q === -1 ? '' : url.slice(q + 1));
  if (requestType === undefined) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, new GatewayError('GH_ERR_METHOD_NOT_ALLOWED', `${path} accepts GET only`), { allow: 'GET' });
    return path === '/health' ? sendJson(res, 200, health(gw, state)) : sendJson(res, 200, { object: 'list', data: gw.models() });
  }
  if (req.method !== 'POST') {
    drain(req);
    return sendError(res, new GatewayError('GH_ERR_METHOD_NOT_ALLOWED', `${path} accepts POST only`), { allow: 'POST' });
  }
  if (state.draining) {
    drain(req);
    return sendError(res, new GatewayError('GH_ERR_SHUTTING_DOWN', 'the gateway is shutting down'), { connection: 'close' });
  }
  await gw.track(inference(gw, state, req, res, path, q === -1 ? '' : url.slice(q + 1), requestType));
}

function mountOf(mounts: Mount[], path: string): Mount | undefined {
  for (const m of mounts) {
    if (path.startsWith(m.prefix) && (path.length === m.prefix.length || path.charCodeAt(m.prefix.length) === 47 /* / */)) return m;
  }
  return undefined;
}

/** Vendor fronts and the OpenAI request types with a codec; anything else is a 404 in the path's front shape. */
async function handleFront(gw: Gateway, state: GatewayServer, req: IncomingMessage, res: ServerResponse, path: string, search: string): Promise<void> {
  const match = matchFrontRoute(path);
  const front = match?.route.front ?? frontOfPath(path);
  if (!match) {
    drain(req);
    return sendError(res, new GatewayError('GH_ERR_NOT_FOUND', `no route for ${req.method} ${path}`), {}, front);
  }
  if (req.method !== 'POST') {
    drain(req);
    return sendError(res, new GatewayError('GH_ERR_METHOD_NOT_ALLOWED', `${path} accepts POST only`), { allow: 'POST' }, front);
  }
  if (state.draining) {
    drain(req);
    return sendError(res, new GatewayError('GH_ERR_SHUTTING_DOWN', 'the gateway is shutting down'), { connection: 'close' }, front);
  }
  let codec: FrontCodec;
  try {
    codec = match.route.codec(req, match.params);
  } catch (err) {
    drain(req);
    return sendError(res, isGatewayError(err) ? err : new GatewayError('GH_ERR_INTERNAL', 'internal error'), {}, front);
  }
  await gw.track(inference(gw, state, req, res, path, search, match.route.requestType, front, codec));
}

async function inference(
  gw: Gateway, state: GatewayServer, req: IncomingMessage, res: ServerResponse, path: string, search: string, requestType: RequestType,
  front: FrontName = 'openai', codec?: FrontCodec,
): Promise<void> {
  const receivedAt = performance.now();
  const unreadable = unreadableBody(req);
  if (unreadable) {
    drain(req);
    return sendError(res, unreadable, { connection: 'close' }, front);
  }
  let body: Buffer;
  try {
    body = await readBody(req, gw.config.maxBodyBytes, gw.config.bodyTimeoutMs);
  } catch (err) {
    const e = isGatewayError(err) ? err : new GatewayError('GH_ERR_INTERNAL', 'could not read the request');
    // The rest of the body is not wanted: answer, then close the connection.
    sendError(res, e, { connection: 'close' }, front);
    return;
  }
  const sink = new HttpResponseSink(res, state.streams);
  await runInference(gw, {
    requestId: requestIdOf(req),
    requestType,
    front,
    codec,
    method: req.method as string,
    path,
    rawHeaders: req.rawHeaders,
    query: search ? Object.fromEntries(new URLSearchParams(search)) : {},
    body,
    receivedAt,
  }, sink);
}

/**
 * Bodies are read as JSON whatever their declared type when it could be JSON (`curl -d` says
 * x-www-form-urlencoded, some clients say text/plain); a type that cannot be (multipart, binary,
 * XML) or a compressed body gets a 415 naming it, instead of a puzzling "invalid JSON".
 */
function unreadableBody(req: IncomingMessage): GatewayError | null {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    return new GatewayError('GH_ERR_UNSUPPORTED_MEDIA_TYPE', `request bodies with Content-Encoding "${encoding}" are not supported: send the JSON uncompressed`);
  }
  const type = req.headers['content-type'];
  if (type === undefined || type === 'application/json') return null; // the common case, without a split
  const media = type.split(';', 1)[0]!.trim().toLowerCase();
  if (media === '' || media === 'application/json' || media === 'text/plain' || media === 'application/x-www-form-urlencoded' || (media.startsWith('application/') && media.endsWith('+json'))) return null;
  return new GatewayError('GH_ERR_UNSUPPORTED_MEDIA_TYPE', `Content-Type "${media}" is not supported: send the request body as application/json`);
}

function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

function health(gw: Gateway, state: GatewayServer): unknown {
  return {
    status: state.draining ? 'draining' : 'ok',
    pid: process.pid,
    uptime_seconds: Math.round((Date.now() - gw.startedAt) / 1000),
    inflight: gw.inflight,
    providers: [...gw.config.providers.keys()],
    plugins: gw.pipeline.entries.map((e) => ({
      name: e.name,
      healthy: e.plugin.isHealthy ? e.plugin.isHealthy() : true,
      on_error: e.onError,
      failures: failuresOf(gw, e.name),
      ...(e.plugin.droppedLogBytes ? { log_dropped_bytes: e.plugin.droppedLogBytes() } : {}),
    }) as Record<string, unknown>).concat(gw.pipeline.notLoaded.map((n) => ({ name: n.name, healthy: false, on_error: 'fail_open', loaded: false, error: n.error }))),
  };
}

/** Plugin failures counted since start, by hook: `{"preLLMHook": 3}`. */
function failuresOf(gw: Gateway, plugin: string): Record<string, number> {
  const out: Record<string, number> = {};
  const prefix = `${plugin}:`;
  for (const [key, n] of gw.pipeline.failures.counts) if (key.startsWith(prefix)) out[key.slice(prefix.length)] = n;
  return out;
}

function drain(req: IncomingMessage): void {
  req.resume();
}

function sendJson(res: ServerResponse, status: number, obj: unknown, extra: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...extra });
  res.end(body);
}

function sendError(res: ServerResponse, e: GatewayError, extra: Record<string, string> = {}, front: FrontName = 'openai'): void {
  sendJson(res, e.status, front === 'openai' ? e.toBody() : errorBody(front, e), extra);
}
