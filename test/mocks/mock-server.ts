/**
 * The machinery shared by the mock upstreams (openai-upstream.ts, anthropic-upstream.ts,
 * gemini-upstream.ts): a loopback HTTP server on a random port that records every request,
 * answers through a provider "dialect", and applies scripted faults. See each provider file for
 * its routes; the fault and control API is the same for all three:
 *
 *   mock.enqueue(fault, times = 1)   the next `times` requests get `fault`, then normal answers
 *   mock.setBehaviour(fault?)        every request gets `fault` while the queue is empty (undefined: normal)
 *   mock.failKey(key, fault?)        requests made with this API key get `fault` (key-rotation tests)
 *   mock.setKeys(keys?)              allow-list of API keys; others get the provider's auth error
 *   mock.requests                    RecordedRequest[]: method, path, query, headers, body (parsed), key,
 *                                    fault applied, aborted (client went away first), completed, settled
 *   mock.openSockets()               sockets open right now (assert no leak); mock.connections: total accepted
 *   mock.waitForRequests(n)          resolves once n requests arrived
 *   mock.reset()                     forgets requests, queue, behaviour and key faults
 *   mock.close()                     destroys every socket (hung ones too) and stops the server
 *
 * Fault fields (combine freely; `delayMs` happens first):
 *   status, message?, errorType?, retryAfter?, headers?, body?  answer with status and the provider's real error body
 *   hang                 never answer (the request shows `aborted` once the client gives up)
 *   reset: 'before-headers' | 'mid-body'   destroy the socket
 *   invalidJson          200 with a body (or stream event) that is not JSON
 *   truncateStream       stream ends without its end marker ([DONE], message_stop, finishReason)
 *   stallStream          stream sends its first events, then nothing (until the client leaves)
 *   errorEvent           200 stream whose first event is the provider's error event
 *   delayMs              wait before answering; chunkDelayMs: wait between stream events
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Fault {
  status?: number;
  message?: string;
  errorType?: string;
  retryAfter?: number | string;
  headers?: Record<string, string>;
  /** Replaces the error body for `status` (a string is sent as is). */
  body?: unknown;
  hang?: boolean;
  reset?: 'before-headers' | 'mid-body';
  invalidJson?: boolean;
  truncateStream?: boolean;
  stallStream?: boolean;
  errorEvent?: boolean;
  delayMs?: number;
  chunkDelayMs?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** The path as it came on the wire, percent-encodings kept (signature checks need it). */
  rawPath: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; undefined when absent or not JSON (see rawBody). */
  body: any;
  rawBody: string;
  /** The API key the request carried, as the provider reads it. */
  key: string | undefined;
  fault: Fault | undefined;
  /** The client closed the connection before the answer was complete. */
  aborted: boolean;
  completed: boolean;
  /** Resolves when the answer completed, the client aborted, or the mock reset the socket. */
  settled: Promise<void>;
}

/** A normal answer: a JSON body, or SSE events (already framed) whose last `endMarkers` events end the stream. */
export type Reply =
  | { kind: 'json'; status?: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'binary'; body: Uint8Array; contentType: string }
  | { kind: 'sse'; events: Array<string | Uint8Array>; endMarkers: number; contentType?: string };

export interface Dialect {
  keyOf(req: IncomingMessage, query: Record<string, string>): string | undefined;
  /** The reply for a missing or refused key. */
  authError(key: string | undefined): Reply;
  errorBody(status: number, message: string | undefined, type: string | undefined): unknown;
  /** Headers the provider adds to an error answer (AWS names the exception in `x-amzn-errortype`). */
  errorHeaders?(status: number, type: string | undefined): Record<string, string>;
  /** A framed stream event carrying an error, as the provider sends it inside a 200 stream (SSE text or binary frame). */
  errorEvent(message: string | undefined, type: string | undefined): string | Uint8Array;
  /** The content type of this dialect's streams (default text/event-stream). */
  streamContentType?: string;
  route(rec: RecordedRequest): Reply | Promise<Reply>;
}

export interface MockOptions {
  /** Allow-list of API keys (default: any key is accepted). */
  keys?: string[];
  /** Pause between stream events, in ms (default 0). */
  chunkDelayMs?: number;
}

export interface MockUpstream {
  url: string;
  port: number;
  requests: RecordedRequest[];
  connections: number;
  enqueue(fault: Fault, times?: number): void;
  setBehaviour(fault: Fault | undefined): void;
  failKey(key: string, fault: Fault | undefined): void;
  setKeys(keys: string[] | undefined): void;
  openSockets(): number;
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

export function sse(data: unknown, event?: string): string {
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  return `${event ? `event: ${event}\n` : ''}data: ${text}\n\n`;
}

export async function startMockServer(dialect: Dialect, opts: MockOptions = {}): Promise<MockUpstream> {
  const sockets = new Set<Socket>();
  const queue: Fault[] = [];
  const keyFaults = new Map<string, Fault>();
  let behaviour: Fault | undefined;
  let keys = opts.keys;
  const waiters: Array<() => void> = [];

  const mock: MockUpstream = {
    url: '',
    port: 0,
    requests: [],
    connections: 0,
    enqueue(fault, times = 1) { for (let i = 0; i < times; i++) queue.push(fault); },
    setBehaviour(fault) { behaviour = fault; },
    failKey(key, fault) { if (fault) keyFaults.set(key, fault); else keyFaults.delete(key); },
    setKeys(k) { keys = k; },
    openSockets: () => sockets.size,
    async waitForRequests(n, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (mock.requests.length < n) {
        if (Date.now() > deadline) throw new Error(`mock upstream: ${mock.requests.length} of ${n} requests arrived`);
        await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 20); });
      }
    },
    reset() { mock.requests.length = 0; queue.length = 0; keyFaults.clear(); behaviour = undefined; },
    async close() {
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((err) => {
      if (!res.headersSent) { res.writeHead(500, { 'content-type': 'text/plain' }); res.end(String(err)); } else res.destroy();
    });
  });
  server.on('connection', (s) => {
    mock.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://mock');
    const query = Object.fromEntries(url.searchParams);
    let settle!: () => void;
    const rec: RecordedRequest = {
      method: req.method ?? 'GET', path: url.pathname, rawPath: (req.url ?? '/').split('?')[0] as string, query, headers: req.headers, body: undefined, rawBody: '',
      key: dialect.keyOf(req, query), fault: undefined, aborted: false, completed: false,
      settled: new Promise<void>((r) => { settle = r; }),
    };
    let resetByMock = false;
    res.on('close', () => {
      if (!res.writableFinished && !resetByMock) rec.aborted = true;
      rec.completed = res.writableFinished;
      settle();
    });
    mock.requests.push(rec);
    for (const w of waiters.splice(0)) w();

    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    rec.rawBody = Buffer.concat(chunks).toString('utf8');
    try { rec.body = rec.rawBody ? JSON.parse(rec.rawBody) : undefined; } catch { rec.body = undefined; }

    if (keys && (!rec.key || !keys.includes(rec.key))) return send(res, dialect.authError(rec.key), {});
    const fault = (rec.key !== undefined ? keyFaults.get(rec.key) : undefined) ?? queue.shift() ?? behaviour;
    rec.fault = fault;
    const f = fault ?? {};
    if (f.delayMs) await sleep(f.delayMs, res);
    if (res.destroyed) return;
    if (f.hang) return; // the socket stays open until the client or close() ends it
    if (f.reset === 'before-headers') { resetByMock = true; req.socket.destroy(); return; }
    if (f.status) {
      const body = f.body ?? dialect.errorBody(f.status, f.message, f.errorType);
      const headers: Record<string, string> = { ...dialect.errorHeaders?.(f.status, f.errorType), ...f.headers };
      if (f.retryAfter !== undefined) headers['retry-after'] = String(f.retryAfter);
      return send(res, { kind: 'json', status: f.status, body, headers }, f);
    }
    const reply = await dialect.route(rec);
    if (reply.kind === 'sse' && f.errorEvent) {
      return send(res, { kind: 'sse', events: [dialect.errorEvent(f.message, f.errorType)], endMarkers: 0 }, {});
    }
    return send(res, reply, f, () => { resetByMock = true; });
  }

  async function send(res: ServerResponse, reply: Reply, f: Fault, markReset?: () => void): Promise<void> {
    if (reply.kind === 'binary') {
      res.writeHead(200, { 'content-type': reply.contentType, 'content-length': String(reply.body.length) });
      res.end(reply.body);
      return;
    }
    if (reply.kind === 'json') {
      let text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      if (f.invalidJson) text = '{"id": "broken", "choices": [ this is not json';
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      if (f.reset === 'mid-body') {
        res.write(text.slice(0, Math.max(1, text.length >> 1)));
        markReset?.();
        setTimeout(() => res.socket?.destroy(), 10);
        return;
      }
      res.end(text);
      return;
    }
    let events = reply.events;
    if (f.invalidJson) events = [dialect.streamContentType ? new Uint8Array([0, 0, 0, 20, 0, 0, 0, 0, 1, 2, 3, 4, 123, 34, 0, 0, 0, 0, 0, 0]) : 'data: {"not json\n\n', ...events];
    if (f.truncateStream) events = events.slice(0, events.length - reply.endMarkers);
    const cut = f.stallStream || f.reset === 'mid-body' ? Math.max(1, (events.length - reply.endMarkers) >> 1) : events.length;
    res.writeHead(200, { 'content-type': reply.contentType ?? dialect.streamContentType ?? 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const delay = f.chunkDelayMs ?? opts.chunkDelayMs ?? 0;
    for (const [i, ev] of events.slice(0, cut).entries()) {
      if (res.destroyed) return;
      if (i > 0 && delay > 0) await sleep(delay, res);
      if (!res.write(ev)) await new Promise((r) => { res.once('drain', r); res.once('close', r); });
    }
    if (f.stallStream) return; // headers and a few events, then silence
    if (f.reset === 'mid-body') { markReset?.(); res.socket?.destroy(); return; }
    res.end();
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  mock.port = (server.address() as AddressInfo).port;
  mock.url = `http://127.0.0.1:${mock.port}`;
  return mock;
}

/** Waits `ms`, or less if the client goes away meanwhile. */
function sleep(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    res.once('close', done);
    function done(): void { clearTimeout(t); res.off('close', done); resolve(); }
  });
}
