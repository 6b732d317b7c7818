import type { ServerResponse } from 'node:http';
import type { ResponseSink } from '../core/inbound.js';
import { ClientGoneSignal, type CancelSignal } from '../schema/cancel.js';

/**
 * The core's ResponseSink over a node:http response. SSE events are written as they come; when
 * the socket's buffer is full, `writeEvent` returns a promise that settles on 'drain' (or on
 * close), so a slow client slows the upstream read instead of growing memory.
 */
export class HttpResponseSink implements ResponseSink {
  readonly #res: ServerResponse;
  readonly #gone = new ClientGoneSignal();
  /**
   * Events waiting for the end of the current burst. Events that arrive together (one upstream
   * read often holds many) leave as one string in one write: one chunked-encoding frame and one
   * syscall instead of three writev entries per event, which the profile showed as the top cost.
   */
  #pending = '';
  #scheduled = false;
  readonly #flush = (): void => {
    this.#scheduled = false;
    if (this.#pending.length === 0) return;
    const out = this.#pending;
    this.#pending = '';
    const res = this.#res;
    if (!res.destroyed && !res.writableEnded) res.write(out);
  };

  /** The server's set of open streams, which shutdown ends with an error event (cut). */
  readonly #streams: Set<HttpResponseSink> | undefined;

  constructor(res: ServerResponse, streams?: Set<HttpResponseSink>) {
    this.#res = res;
    this.#streams = streams;
    res.once('close', () => {
      streams?.delete(this);
      if (!res.writableFinished) this.#gone.abort();
    });
  }

  get signal(): CancelSignal {
    return this.#gone;
  }

  /** Set by cut(): the gateway ended the stream, the client did not leave. */
  #cut = false;
  get wasCut(): boolean {
    return this.#cut;
  }

  send(status: number, headers: Record<string, string>, body: Uint8Array | string | null): void {
    const res = this.#res;
    if (res.headersSent || res.destroyed) return;
    const payload = body ?? '';
    // The headers object is this response's own: set the length on it rather than copying it.
    headers['content-length'] = String(typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength);
    res.writeHead(status, headers);
    res.end(payload);
  }

  startStream(status: number, headers: Record<string, string>): void {
    const res = this.#res;
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, headers);
    res.flushHeaders();
    this.#streams?.add(this);
  }

  writeEvent(data: string, event?: string): void | Promise<void> {
    const res = this.#res;
    if (res.destroyed || res.writableEnded) return;
    this.#pending += event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
    if (this.#pending.length >= FLUSH_AT) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#flush);
    }
    return this.#drained();
  }

  writeRaw(data: Uint8Array): void | Promise<void> {
    const res = this.#res;
    if (res.destroyed || res.writableEnded) return;
    this.#flush();
    res.write(data);
    return this.#drained();
  }

  #drained(): void | Promise<void> {
    const res = this.#res;
    if (!res.writableNeedDrain) return;
    return new Promise((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }

  endStream(): void {
    this.#streams?.delete(this);
    this.#flush();
    if (!this.#res.writableEnded) this.#res.end();
  }

  /**
   * Ends an open stream from outside (shutdown past its grace period): what is pending, then
   * `event` as a last SSE event, so the client reads why the stream stopped instead of a bare
   * disconnect; the request is told the client is gone, which stops its upstream read.
   */
  cut(event: string): void {
    this.#streams?.delete(this);
    const res = this.#res;
    if (!res.headersSent || res.destroyed || res.writableEnded) return;
    this.#cut = true;
    this.#pending += `data: ${event}\n\n`;
    this.#flush();
    res.end();
    this.#gone.abort();
  }
}

/** A burst larger than this is written at once rather than at the end of the tick. */
const FLUSH_AT = 64 * 1024;
