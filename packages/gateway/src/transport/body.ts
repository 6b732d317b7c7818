import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../schema/errors.js';

/**
 * Reads a request body into one Buffer, refusing early what is too big (413 from Content-Length,
 * or as soon as the count passes the limit) and what trickles in too slowly (408): a gateway must
 * never buffer without bound.
 */
export function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(tooLarge(maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const done = (err: GatewayError | null, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      if (err) reject(err);
      else resolve(body as Buffer);
    };
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > maxBytes) {
        req.pause();
        done(tooLarge(maxBytes));
        return;
      }
      chunks.push(c);
    };
    const onEnd = (): void => done(null, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    const onError = (): void => done(new GatewayError('GH_ERR_INVALID_REQUEST', 'request body could not be read (connection error)'));
    const onAborted = (): void => done(new GatewayError('GH_ERR_INVALID_REQUEST', 'client closed the connection before the body was complete'));
    const timer = setTimeout(() => done(new GatewayError('GH_ERR_REQUEST_TIMEOUT', `request body not received within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError('GH_ERR_BODY_TOO_LARGE', `request body is larger than the limit of ${formatBytes(maxBytes)} (client.max_request_body_size_mb)`);
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) === 0 ? 0 : 2)} MB` : `${n} bytes`;
}
