import type { GatewayError } from './errors.js';

/**
 * The wire formats the gateway answers in: OpenAI's (`/v1/*`, `/openai/v1/*`), Anthropic's
 * (`/anthropic/v1/*`, `/v1/messages`) and Google GenAI's (`/genai/v1beta/*`). A client gets every
 * error, whoever raised it (the gateway, a plugin, governance, the provider), in the shape of the
 * front it called, so its SDK raises its own error class with the message intact.
 */
export type FrontName = 'openai' | 'anthropic' | 'genai';

/** Anthropic's error `type` per HTTP status (its API reference, "HTTP errors"). */
const ANTHROPIC_TYPE: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 402: 'billing_error', 403: 'permission_error',
  404: 'not_found_error', 413: 'request_too_large', 429: 'rate_limit_error', 500: 'api_error',
  504: 'timeout_error', 529: 'overloaded_error',
};
const ANTHROPIC_TYPES = new Set(Object.values(ANTHROPIC_TYPE));

/** google.rpc.Code names per HTTP status, as the Gemini API answers them. */
const GOOGLE_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 402: 'FAILED_PRECONDITION', 403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND', 405: 'UNIMPLEMENTED', 408: 'DEADLINE_EXCEEDED', 409: 'ABORTED', 413: 'INVALID_ARGUMENT',
  415: 'INVALID_ARGUMENT', 429: 'RESOURCE_EXHAUSTED', 431: 'INVALID_ARGUMENT', 499: 'CANCELLED',
  500: 'INTERNAL', 501: 'UNIMPLEMENTED', 502: 'UNAVAILABLE', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
};

export function anthropicErrorType(e: GatewayError): string {
  // The status decides (the SDKs pick their error class by it); for a status Anthropic does not
  // list, an Anthropic upstream's own type is kept.
  return ANTHROPIC_TYPE[e.status] ?? (ANTHROPIC_TYPES.has(e.type) ? e.type : e.status < 500 ? 'invalid_request_error' : 'api_error');
}

export function googleStatus(status: number): string {
  return GOOGLE_STATUS[status] ?? (status < 500 ? 'FAILED_PRECONDITION' : 'INTERNAL');
}

/** The JSON error body in a front's shape. */
export function errorBody(front: FrontName, e: GatewayError, requestId?: string): unknown {
  switch (front) {
    case 'anthropic': {
      const body: Record<string, unknown> = { type: 'error', error: { type: anthropicErrorType(e), message: e.message } };
      if (requestId) body.request_id = requestId;
      return body;
    }
    case 'genai':
      return { error: { code: e.status, message: e.message, status: googleStatus(e.status) } };
    default:
      return e.toBody();
  }
}

export interface RenderedError {
  status_code: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * A whole HTTP error answer in a front's shape: what governance (401/402/429), plugins' errors and
 * the gateway's own refusals send. `headers` is a fresh object the caller may add to.
 */
export function renderError(front: FrontName, e: GatewayError, requestId?: string): RenderedError {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (requestId) {
    headers['x-request-id'] = requestId;
    if (front === 'anthropic') headers['request-id'] = requestId;
  }
  if (e.retryAfterMs !== undefined && e.status === 429) headers['retry-after'] = String(Math.ceil(e.retryAfterMs / 1000));
  return { status_code: e.status, headers, body: Buffer.from(JSON.stringify(errorBody(front, e, requestId))) };
}

/**
 * An error that happens after a stream started, as the front's last SSE event: Anthropic sends
 * `event: error` with its error object, the Responses API a `type: "error"` event, GenAI and chat
 * the error body as a `data:` line.
 */
export function streamErrorEvent(front: FrontName, e: GatewayError, requestId?: string): { event?: string; data: string } {
  if (front === 'anthropic') return { event: 'error', data: JSON.stringify(errorBody('anthropic', e, requestId)) };
  return { data: JSON.stringify(errorBody(front, e)) };
}
