import type { ServerResponse } from 'node:http';
import type { ResponseSink } from '../core/inbound.js';

/**
 * The core's ResponseSink over a node:http response. SSE events are written as they come; when
 * the socket's buffer is full, `writeEvent` returns a promise that settles on 'drain' (or on
 * close), so a slow client slows the upstream read instead of growing memory.
 */
export class HttpResponseSink implements ResponseSink {
  readonly #res: ServerResponse;
  readonly #abort = new AbortController();
  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    this.#res.uncork();
  };

  constructor(res: ServerResponse) {
    this.#res = res;
    res.once('close', () => {
      if (!res.writableFinished) this.#abort.abort();
    });
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  send(status: number, headers: Record<string, string>, body: Uint8Array | string | null): void {
    const res = this.#res;
    if (res.headersSent || res.destroyed) return;
    const payload = body ?? '';
    res.writeHead(status, { ...headers, 'content-length': String(typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength) });
    res.end(payload);
  }

  startStream(status: number, headers: Record<string, string>): void {
    const res = this.#res;
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, headers);
    res.flushHeaders();
  }

  writeEvent(data: string): void | Promise<void> {
    const res = this.#res;
    if (res.destroyed || res.writableEnded) return;
    // Events that arrive together (one upstream TCP read often holds many) leave in one write:
    // cork on the first, uncork once the current burst of microtasks is done.
    if (!this.#corked) {
      this.#corked = true;
      res.cork();
      process.nextTick(this.#uncork);
    }
    if (res.write(`data: ${data}\n\n`)) return;
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
    if (!this.#res.writableEnded) this.#res.end();
  }
}
