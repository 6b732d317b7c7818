/**
 * Every error the gateway produces, by named code. Each code fixes the HTTP status (unless the
 * error carries the upstream's own status), the OpenAI-style `type`, and what kind of fault it is.
 * `docs/errors.md` lists the same codes; a unit test keeps the two in step.
 */
export type ErrorKind = 'client' | 'upstream' | 'plugin' | 'internal';

interface CodeSpec { status: number; type: string; kind: ErrorKind }

export const ERROR_CODES = {
  GH_ERR_INVALID_JSON: { status: 400, type: 'invalid_request_error', kind: 'client' },
  GH_ERR_INVALID_REQUEST: { status: 400, type: 'invalid_request_error', kind: 'client' },
  GH_ERR_UNKNOWN_PROVIDER: { status: 400, type: 'invalid_request_error', kind: 'client' },
  GH_ERR_UNKNOWN_MODEL: { status: 400, type: 'invalid_request_error', kind: 'client' },
  GH_ERR_UNSUPPORTED_OPERATION: { status: 400, type: 'invalid_request_error', kind: 'client' },
  GH_ERR_BODY_TOO_LARGE: { status: 413, type: 'invalid_request_error', kind: 'client' },
  GH_ERR_HEADERS_TOO_LARGE: { status: 431, type: 'invalid_request_error', kind: 'client' },
  GH_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, type: 'invalid_request_error', kind: 'client' },
  GH_ERR_NOT_FOUND: { status: 404, type: 'not_found_error', kind: 'client' },
  GH_ERR_METHOD_NOT_ALLOWED: { status: 405, type: 'invalid_request_error', kind: 'client' },
  GH_ERR_REQUEST_TIMEOUT: { status: 408, type: 'invalid_request_error', kind: 'client' },
  GH_ERR_ROUTE_CHANGED_BY_PLUGIN: { status: 409, type: 'invalid_request_error', kind: 'plugin' },
  // nginx's "client closed request": never reaches the client, but post-hooks and logs see it.
  GH_ERR_CLIENT_CLOSED: { status: 499, type: 'invalid_request_error', kind: 'client' },
  GH_ERR_UPSTREAM_UNREACHABLE: { status: 502, type: 'api_error', kind: 'upstream' },
  GH_ERR_UPSTREAM_BAD_RESPONSE: { status: 502, type: 'api_error', kind: 'upstream' },
  GH_ERR_UPSTREAM_STATUS: { status: 502, type: 'api_error', kind: 'upstream' },
  GH_ERR_UPSTREAM_TIMEOUT: { status: 504, type: 'timeout_error', kind: 'upstream' },
  GH_ERR_STREAM_IDLE: { status: 504, type: 'timeout_error', kind: 'upstream' },
  GH_ERR_NO_KEY_AVAILABLE: { status: 503, type: 'api_error', kind: 'upstream' },
  GH_ERR_PLUGIN_FAILED: { status: 500, type: 'plugin_error', kind: 'plugin' },
  GH_ERR_PLUGIN_UNHEALTHY: { status: 503, type: 'plugin_error', kind: 'plugin' },
  GH_ERR_PLUGIN_BUSY: { status: 503, type: 'plugin_error', kind: 'plugin' },
  GH_ERR_PLUGIN_REJECTED: { status: 400, type: 'plugin_error', kind: 'plugin' },
  GH_ERR_SHUTTING_DOWN: { status: 503, type: 'api_error', kind: 'internal' },
  GH_ERR_INTERNAL: { status: 500, type: 'api_error', kind: 'internal' },
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

const kGatewayError = Symbol.for('gatehouse.error');

export interface GatewayErrorOptions {
  status?: number;
  type?: string;
  param?: string | null;
  /** `false` stops fallbacks (contract: absent means fallbacks run). */
  allowFallbacks?: boolean;
  /** Retrying the same target may succeed (network errors, 429, 5xx). */
  retryable?: boolean;
  retryAfterMs?: number;
  provider?: string;
  /** The upstream's own error code, passed through to the client when present. */
  upstreamCode?: string | null;
  cause?: unknown;
}

/** An error with a code, a status and a provider-style body. Branded so `instanceof` works across copies. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly kind: ErrorKind;
  readonly param: string | null;
  readonly allowFallbacks: boolean | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly provider: string | undefined;
  readonly upstreamCode: string | null | undefined;

  constructor(code: ErrorCode, message: string, opts: GatewayErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    const spec: CodeSpec = ERROR_CODES[code];
    this.name = 'GatewayError';
    this.code = code;
    this.status = opts.status ?? spec.status;
    this.type = opts.type ?? spec.type;
    this.kind = spec.kind;
    this.param = opts.param ?? null;
    this.allowFallbacks = opts.allowFallbacks;
    this.retryable = opts.retryable ?? false;
    this.retryAfterMs = opts.retryAfterMs;
    this.provider = opts.provider;
    this.upstreamCode = opts.upstreamCode;
  }

  static override [Symbol.hasInstance](x: unknown): boolean {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[kGatewayError] === true;
  }

  get [kGatewayError](): boolean {
    return true;
  }

  /** The body sent to clients: `{"error":{"message","type","code","param"}}`. */
  toBody(): { error: { message: string; type: string; code: string; param: string | null } } {
    return { error: { message: this.message, type: this.type, code: this.upstreamCode ?? this.code, param: this.param } };
  }

  /** The plugin contract's BifrostError shape. */
  toLLMError(): LLMError {
    const out: LLMError = {
      status_code: this.status,
      error: { message: this.message, type: this.type, code: this.upstreamCode ?? this.code, param: this.param },
    };
    if (this.allowFallbacks !== undefined) out.allow_fallbacks = this.allowFallbacks;
    if (this.provider !== undefined) out.provider = this.provider;
    return out;
  }
}

/** BifrostError as plugins see and return it. */
export interface LLMError {
  status_code?: number | null;
  error?: { message?: string; type?: string | null; code?: string | number | null; param?: string | null; [k: string]: unknown } | null;
  allow_fallbacks?: boolean | null;
  provider?: string;
  [k: string]: unknown;
}

/** Contract: an error with no status, type and message counts as cleared (recovery). */
export function isEmptyLLMError(e: LLMError | null | undefined): boolean {
  if (!e) return true;
  const inner = e.error;
  return !e.status_code && (!inner || (!inner.message && !inner.type && (inner.code === undefined || inner.code === null || inner.code === '')));
}

/** A plugin-supplied error becomes a GatewayError the transport can answer with. */
export function fromLLMError(e: LLMError, fallbackCode: ErrorCode = 'GH_ERR_PLUGIN_REJECTED'): GatewayError {
  const inner = e.error ?? {};
  const status = typeof e.status_code === 'number' && e.status_code >= 400 && e.status_code <= 599 ? e.status_code : undefined;
  return new GatewayError(fallbackCode, typeof inner.message === 'string' && inner.message ? inner.message : 'request rejected', {
    status,
    type: typeof inner.type === 'string' && inner.type ? inner.type : undefined,
    param: typeof inner.param === 'string' ? inner.param : null,
    upstreamCode: inner.code === undefined || inner.code === null ? undefined : String(inner.code),
    allowFallbacks: typeof e.allow_fallbacks === 'boolean' ? e.allow_fallbacks : undefined,
    provider: e.provider,
  });
}

export function isGatewayError(x: unknown): x is GatewayError {
  return x instanceof GatewayError;
}
