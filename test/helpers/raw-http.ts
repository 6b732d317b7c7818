import { connect, type Socket } from 'node:net';
import { request, Agent } from 'node:http';

/** One HTTP response as read off a raw socket. */
export interface RawResponse {
  /** 0 when no status line arrived. */
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: any;
  /** The server closed the connection (before the timeout). */
  closed: boolean;
  /** Milliseconds from connect to the end of the response (or the close). */
  ms: number;
  /** Bytes the writer managed to send. */
  sent: number;
}

/**
 * Opens a TCP connection, lets `write` send whatever bytes it likes (slowly, malformed, endless),
 * and reads the answer: resolves when the server closes the connection, or `settleMs` after a
 * complete response arrived (keep-alive), or at `timeoutMs`. Socket errors (EPIPE, ECONNRESET
 * while the writer is still sending) are expected and swallowed.
 */
export function rawExchange(
  port: number,
  write: (s: Socket, state: { done: boolean; sent: number }) => void | Promise<void>,
  opts: { timeoutMs?: number; settleMs?: number } = {},
): Promise<RawResponse> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const settleMs = opts.settleMs ?? 200;
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const state = { done: false, sent: 0 };
    let settleTimer: NodeJS.Timeout | undefined;
    const origWrite = socket.write.bind(socket) as (...a: unknown[]) => boolean;
    (socket as { write: unknown }).write = (data: string | Uint8Array, ...rest: unknown[]): boolean => {
      if (state.done || socket.destroyed) return false;
      state.sent += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
      return origWrite(data, ...rest);
    };
    const finish = (closed: boolean): void => {
      if (state.done) return;
      state.done = true;
      clearTimeout(timer);
      clearTimeout(settleTimer);
      const raw = Buffer.concat(chunks);
      const ms = Date.now() - started;
      socket.destroy();
      resolve({ ...parse(raw), closed, ms, sent: state.sent });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (complete(Buffer.concat(chunks))) {
        clearTimeout(settleTimer);
        settleTimer = setTimeout(() => finish(false), settleMs);
      }
    });
    socket.on('close', () => finish(true));
    socket.on('end', () => finish(true));
    socket.on('connect', () => {
      void Promise.resolve(write(socket, state)).catch(() => undefined);
    });
  });
}

function complete(raw: Buffer): boolean {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) return false;
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(raw.subarray(0, end).toString('latin1'));
  return m ? raw.length - end - 4 >= Number(m[1]) : false;
}

function parse(raw: Buffer): Omit<RawResponse, 'closed' | 'ms' | 'sent'> {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) return { status: 0, headers: {}, text: raw.toString('utf8'), json: undefined };
  const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const text = raw.subarray(end + 4).toString('utf8');
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status, headers, text, json };
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * POSTs arbitrary bytes with node:http (so the body can be anything, not just a valid string),
 * with the given content-type (or none when null). Resolves with status, headers and body text.
 */
export function postBytes(url: string, body: Uint8Array, contentType: string | null, agent?: Agent): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-length': String(body.byteLength) };
    if (contentType !== null) headers['content-type'] = contentType;
    const req = request(url, { method: 'POST', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
