import { Agent, errors as undiciErrors, type Dispatcher } from 'undici';
import type { CancelSignal } from '../schema/cancel.js';
import { GatewayError } from '../schema/errors.js';

/**
 * The one place the gateway talks HTTP to providers: an undici Agent (keep-alive pools per origin),
 * with undici's errors mapped to gateway errors (unreachable: 502, timeouts: 504).
 */
export interface UpstreamRequest {
  method?: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  signal?: CancelSignal;
  /** Time allowed until the status line and headers arrive. */
  headersTimeoutMs: number;
  /** Time allowed between two body chunks (the stream idle timeout for streams). */
  bodyTimeoutMs: number;
  provider: string;
  /** What may be read of the answer (network_config); the defaults when absent. */
  limits?: BodyLimits;
}

/**
 * Bounds on what is read of an upstream answer, from `network_config` (one frozen object per
 * provider, shared by its requests). A hostile or broken upstream otherwise decides how much
 * memory and time the gateway spends on it.
 */
export interface BodyLimits {
  /** A whole non-streaming body; past it the answer is a 502. */
  maxBodyBytes: number;
  /** What is kept of an error body (the message is at its start); the rest is not read. */
  maxErrorBodyBytes: number;
  /** One SSE event; past it the stream ends with an error event. */
  maxEventBytes: number;
  /** From sending the request to the last byte of a non-streaming body. */
  responseTimeoutMs: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = Object.freeze({
  maxBodyBytes: 100 * 1024 * 1024,
  maxErrorBodyBytes: 64 * 1024,
  maxEventBytes: 8 * 1024 * 1024,
  responseTimeoutMs: 120_000,
});

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  limits: BodyLimits;
  /** performance.now() when the request was sent: the total response deadline counts from it. */
  startedAt: number;
}

export class UpstreamClient {
  readonly #agent: Agent;

  constructor(opts: { connectionsPerOrigin?: number } = {}) {
    this.#agent = new Agent({
      connections: opts.connectionsPerOrigin ?? 256,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      pipelining: 1,
    });
  }

  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    const startedAt = performance.now();
    try {
      const res = await this.#agent.request({
        origin: new URL(req.url).origin,
        path: pathOf(req.url),
        method: req.method ?? 'POST',
        headers: req.headers,
        body: req.body,
        // undici takes any object with addEventListener/removeEventListener/aborted as a signal.
        signal: req.signal as unknown as AbortSignal | undefined,
        headersTimeout: req.headersTimeoutMs,
        bodyTimeout: req.bodyTimeoutMs,
      });
      return { status: res.statusCode, headers: res.headers, body: res.body, limits: req.limits ?? DEFAULT_BODY_LIMITS, startedAt };
    } catch (err) {
      throw toGatewayError(err, req.provider);
    }
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/** Maps a network-level failure (connect, timeout, reset, abort) to a gateway error. */
export function toGatewayError(err: unknown, provider: string): GatewayError {
  if (err instanceof GatewayError) return err;
  const e = err as { name?: string; code?: string; message?: string };
  if (err instanceof undiciErrors.HeadersTimeoutError || e.code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new GatewayError('GH_ERR_UPSTREAM_TIMEOUT', `${provider}: no response from upstream within the request timeout`, { provider, retryable: true, cause: err });
  }
  if (err instanceof undiciErrors.BodyTimeoutError || e.code === 'UND_ERR_BODY_TIMEOUT') {
    return new GatewayError('GH_ERR_STREAM_IDLE', `${provider}: upstream stopped sending data (idle timeout)`, { provider, retryable: true, cause: err });
  }
  if (e.code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new GatewayError('GH_ERR_UPSTREAM_TIMEOUT', `${provider}: connecting to upstream timed out`, { provider, retryable: true, cause: err });
  }
  if (e.name === 'AbortError' || e.code === 'UND_ERR_ABORTED') {
    return new GatewayError('GH_ERR_UPSTREAM_UNREACHABLE', `${provider}: upstream request aborted`, { provider, retryable: false, cause: err });
  }
  // A bug in the gateway's own code (an adapter tripping over odd input), not a network failure:
  // neither "unreachable" nor worth a retry. Network errors always carry a code.
  if (e.code === undefined && (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError)) {
    return new GatewayError('GH_ERR_INTERNAL', `${provider}: internal error in the provider adapter (${e.message})`, { provider, retryable: false, cause: err });
  }
  const detail = e.code ?? e.message ?? String(err);
  return new GatewayError('GH_ERR_UPSTREAM_UNREACHABLE', `${provider}: upstream unreachable (${detail})`, { provider, retryable: true, cause: err });
}
