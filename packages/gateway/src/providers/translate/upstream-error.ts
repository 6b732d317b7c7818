import { GatewayError } from '../../schema/errors.js';
import type { UpstreamResponse } from '../upstream-client.js';
import { readErrorText } from './upstream-body.js';

/** Pulls the provider's own message and code out of its error body, whatever its dialect. */
export type ErrorDialect = (body: unknown) => { message?: string; type?: string; code?: string | null; param?: string | null };

/** OpenAI: `{"error":{"message","type","code","param"}}`; also fits most OpenAI-compatible servers. */
export const openAIErrorDialect: ErrorDialect = (body) => {
  const err = (body as { error?: unknown })?.error;
  if (typeof err === 'string') return { message: err };
  const e = (err ?? {}) as Record<string, unknown>;
  return {
    message: str(e.message) ?? str((body as Record<string, unknown>)?.message) ?? str((body as Record<string, unknown>)?.detail),
    type: str(e.type),
    code: e.code === undefined || e.code === null ? null : String(e.code),
    param: str(e.param) ?? null,
  };
};

function str(x: unknown): string | undefined {
  return typeof x === 'string' && x.length > 0 ? x : undefined;
}

/**
 * Turns a non-2xx upstream answer into a GatewayError carrying the upstream status and message.
 * 429 and 5xx are retryable (with `retry-after` honoured); other 4xx are passed through as they are.
 * Only the first `max_error_body_size_kb` of the body are read. The text is not shortened here:
 * keys are cut out of every field first and the message shortened after (core/redact.ts), so a
 * cut never leaves part of a key behind.
 */
export async function upstreamStatusError(res: UpstreamResponse, provider: string, dialect: ErrorDialect): Promise<GatewayError> {
  let text = '';
  try {
    text = (await readErrorText(res, provider)).text;
  } catch {
    /* the status alone still tells the story */
  }
  let parsed: ReturnType<ErrorDialect> = {};
  try {
    parsed = dialect(JSON.parse(text));
  } catch {
    if (text) parsed = { message: text };
  }
  const status = res.status;
  const retryable = status === 429 || status >= 500;
  const message = `${provider}: ${parsed.message ?? `upstream answered HTTP ${status}`}`;
  return new GatewayError('GH_ERR_UPSTREAM_STATUS', message, {
    status: status >= 400 && status <= 599 ? status : 502,
    type: parsed.type ?? defaultType(status),
    param: parsed.param ?? null,
    upstreamCode: parsed.code ?? undefined,
    retryable,
    retryAfterMs: retryAfterMs(res.headers),
    provider,
  });
}

function defaultType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

/** `retry-after-ms`, `retry-after` in seconds, or an HTTP date; undefined when absent or nonsense. */
export function retryAfterMs(headers: UpstreamResponse['headers']): number | undefined {
  const ms = first(headers['retry-after-ms']);
  if (ms !== undefined && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = first(headers['retry-after']);
  if (ra === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(ra.trim())) return Math.max(0, Number(ra) * 1000);
  const at = Date.parse(ra);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
