// Hook outputs, checked at the pipeline boundary.
// A wrong type from a native hook is a plugin failure (handled by on_error, with a message naming
// the plugin and the hook), never a crash further on. Each check returns what is wrong, or undefined.
import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { HttpRequestData } from '../schema/http.js';
import type { LLMRequest } from '../schema/request.js';
import { responseBody, type LLMResponse } from '../schema/response.js';

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'a Uint8Array';
  const t = typeof v;
  return t === 'object' || t === 'undefined' ? t : `a ${t}`;
}

const REQUEST_TYPES = new Set(['chat_completion', 'text_completion', 'embedding']);

export function checkHttpRequest(req: HttpRequestData): string | undefined {
  if (!isRecord(req.headers)) return `left req.headers as ${kind(req.headers)}; it must be an object`;
  if (!isRecord(req.query)) return `left req.query as ${kind(req.query)}; it must be an object`;
  if (req.body !== null && !(req.body instanceof Uint8Array)) return `set req.body to ${kind(req.body)}; it must be a Uint8Array or null`;
  return undefined;
}

export function checkHttpResponse(resp: unknown, what: string): string | undefined {
  if (!isRecord(resp)) return `${what} ${kind(resp)}; expected nothing or an HttpResponseData object`;
  const status = resp.status_code;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
    return `${what} with status_code ${JSON.stringify(status) ?? 'undefined'}; it must be an integer 200-599`;
  }
  if (!isRecord(resp.headers)) return `${what} with headers ${kind(resp.headers)}; they must be an object`;
  for (const k in resp.headers) {
    try {
      validateHeaderName(k);
      validateHeaderValue(k, resp.headers[k] as string);
    } catch (err) {
      return `${what} with an invalid header ${JSON.stringify(k)}: ${(err as Error).message}`;
    }
  }
  if (resp.body !== null && resp.body !== undefined && !(resp.body instanceof Uint8Array)) return `${what} with body ${kind(resp.body)}; it must be a Uint8Array or null`;
  return undefined;
}

export function checkHttpPre(out: unknown, req: HttpRequestData): string | undefined {
  const bad = checkHttpRequest(req);
  if (bad !== undefined) return bad;
  // Returning the request itself is taken as "no change".
  if (out === undefined || out === null || out === req) return undefined;
  if (!isRecord(out)) return `returned ${kind(out)}; expected nothing or an HttpResponseData object`;
  return checkHttpResponse(out, 'returned a response');
}

export function checkRequest(req: unknown, what: string): string | undefined {
  if (!isRecord(req)) return `${what} ${kind(req)}; expected an LLMRequest object`;
  if (typeof req.request_type !== 'string' || !REQUEST_TYPES.has(req.request_type)) return `${what} with request_type ${JSON.stringify(req.request_type) ?? 'undefined'}; it must be one of ${[...REQUEST_TYPES].join(', ')}`;
  if (typeof req.provider !== 'string') return `${what} with provider ${kind(req.provider)}; it must be a string`;
  if (typeof req.model !== 'string') return `${what} with model ${kind(req.model)}; it must be a string`;
  if (typeof req.input !== 'string' && !Array.isArray(req.input)) return `${what} with input ${kind(req.input)}; it must be a string or an array`;
  if (!isRecord(req.params)) return `${what} with params ${kind(req.params)}; they must be an object`;
  if (!Array.isArray(req.fallbacks) || !req.fallbacks.every((f) => typeof f === 'string')) return `${what} with fallbacks that are not an array of strings`;
  return undefined;
}

/** An LLMResponse envelope: an object whose body (its one set key) is an object. */
export function checkResponse(resp: unknown, what: string): string | undefined {
  if (!isRecord(resp)) return `${what} ${kind(resp)} as the response; expected an LLMResponse object or null`;
  if (!isRecord(responseBody(resp as LLMResponse))) return `${what} a response with no object under chat_response, text_completion_response or embedding_response`;
  return undefined;
}

export function checkError(err: unknown, what: string): string | undefined {
  return err === null || err === undefined || isRecord(err) ? undefined : `${what} ${kind(err)} as the error; expected an LLMError object or null`;
}

export function checkPreLLM(out: unknown, req: LLMRequest): string | undefined {
  if (out === undefined || out === null) return checkRequest(req, 'left req');
  if (!isRecord(out)) return `returned ${kind(out)}; expected nothing or { request } or { shortCircuit }`;
  const r = out.request;
  if (r !== undefined && r !== null && !(isRecord(r) && Object.keys(r).length === 0)) {
    const bad = checkRequest(r, 'returned a request');
    if (bad !== undefined) return bad;
  } else {
    const bad = checkRequest(req, 'left req');
    if (bad !== undefined) return bad;
  }
  const sc = out.shortCircuit;
  if (sc === undefined || sc === null) return undefined;
  if (!isRecord(sc)) return `returned shortCircuit as ${kind(sc)}; expected { response } or { error }`;
  if (sc.response !== undefined && sc.response !== null) {
    const bad = checkResponse(sc.response, 'returned');
    if (bad !== undefined) return `${bad} (shortCircuit)`;
  }
  const bad = checkError(sc.error, 'returned');
  return bad === undefined ? undefined : `${bad} (shortCircuit)`;
}

export function checkPostLLM(out: unknown, resp: LLMResponse | null): string | undefined {
  if (out === undefined || out === null) return resp ? checkResponse(resp, 'left') : undefined;
  if (!isRecord(out)) return `returned ${kind(out)}; expected nothing or { response, error }`;
  if ('response' in out) {
    if (out.response !== null && out.response !== undefined) {
      const bad = checkResponse(out.response, 'returned');
      if (bad !== undefined) return bad;
    }
  } else if (resp) {
    const bad = checkResponse(resp, 'left');
    if (bad !== undefined) return bad;
  }
  return 'error' in out ? checkError(out.error, 'returned') : undefined;
}

export function checkChunk(out: unknown): string | undefined {
  return out === undefined || out === null || isRecord(out) ? undefined : `returned ${kind(out)}; expected the chunk (an object), a new object, or null to drop it`;
}
