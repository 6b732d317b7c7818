/**
 * The JSON documents of contract 3.3: building each hook's input and checking each hook's output.
 * A parse function turns the plugin's text into a typed, shape-checked value or throws (bad JSON,
 * wrong types): that is a plugin failure, so it runs inside the runner's failure handling.
 * Applying a checked output to the request lives in host.ts.
 */
import type { RequestContext } from '../../schema/context.js';
import { pushEntries, sameEntries } from '../../schema/entries.js';
import { deeperThan } from '../../schema/json-depth.js';
import type { LLMError } from '../../schema/errors.js';
import type { HttpRequestData, HttpResponseData } from '../../schema/http.js';
import type { LLMRequest } from '../../schema/request.js';
import { rawEnvelopeJson, type LLMResponse } from '../../schema/response.js';
import { ShapeError } from './errors.js';

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function b64(body: Uint8Array | null): string | null {
  return body ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64') : null;
}

export function unb64(s: string): Uint8Array {
  const b = Buffer.from(s, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

// ---- inputs -------------------------------------------------------------------------------

/** Base64 never needs JSON escaping: it is spliced in as it is, not scanned by JSON.stringify. */
function bodyJson(body: Uint8Array | null): string {
  return body ? `"${b64(body)}"` : 'null';
}

function httpRequestJson(req: HttpRequestData): string {
  return `{"method":${JSON.stringify(req.method)},"path":${JSON.stringify(req.path)},"headers":${JSON.stringify(req.headers)},"query":${JSON.stringify(req.query)},"path_params":${JSON.stringify(req.path_params)},"body":${bodyJson(req.body)}}`;
}

/**
 * A request's JSON (with its base64 body) is built once and reused by the later hooks of the same
 * request (http_post_hook, every stream event) while it is unchanged: same method and path, the
 * same header/query/path-param values in the same order (compared one by one, cheaper than
 * serialising), and the same body object. Bodies are replaced, never edited in place (the plugin
 * guide says so; WASM outputs always bring a new body). The snapshot rides on the request object
 * itself (a symbol key): a WeakMap entry per request costs the garbage collector more.
 */
const kSnapshot = Symbol('gatehouse.request-json');
interface RequestSnapshot { json: string; method: string; path: string; body: Uint8Array | null; bodyLen: number; flat: unknown[]; hEnd: number; qEnd: number }

function cachedRequestJson(req: HttpRequestData): string {
  const hit = (req as { [kSnapshot]?: RequestSnapshot })[kSnapshot];
  if (hit && hit.method === req.method && hit.path === req.path && hit.body === req.body && hit.bodyLen === (req.body?.length ?? -1)
    && sameEntries(req.headers, hit.flat, 0, hit.hEnd) && sameEntries(req.query, hit.flat, hit.hEnd, hit.qEnd)
    && sameEntries(req.path_params, hit.flat, hit.qEnd, hit.flat.length)) {
    return hit.json;
  }
  const json = httpRequestJson(req);
  const flat: unknown[] = [];
  const hEnd = pushEntries(flat, req.headers);
  const qEnd = pushEntries(flat, req.query);
  pushEntries(flat, req.path_params);
  // A plain store (defineProperty is slower); a copy of the request that carries it along is still
  // checked field by field before the snapshot is used.
  (req as { [kSnapshot]?: RequestSnapshot })[kSnapshot] = { json, method: req.method, path: req.path, body: req.body, bodyLen: req.body?.length ?? -1, flat, hEnd, qEnd };
  return json;
}

const ctxJson = (ctx: RequestContext): string => ctx.toJsonText();

export function httpPreInput(ctx: RequestContext, req: HttpRequestData): string {
  return `{"context":${ctxJson(ctx)},"request":${cachedRequestJson(req)}}`;
}

export function httpPostInput(ctx: RequestContext, req: HttpRequestData, resp: HttpResponseData | null): string {
  const r = resp ? `{"status_code":${JSON.stringify(resp.status_code)},"headers":${JSON.stringify(resp.headers)},"body":${bodyJson(resp.body)}}` : 'null';
  return `{"context":${ctxJson(ctx)},"request":${cachedRequestJson(req)},"response":${r}}`;
}

export function streamChunkInput(ctx: RequestContext, req: HttpRequestData, chunkJson: string): string {
  return `{"context":${ctxJson(ctx)},"request":${cachedRequestJson(req)},"chunk":${chunkJson}}`;
}

/** Fallbacks travel as `{provider, model}` objects, as Bifrost's chat request carries them. */
export function preLLMInput(ctx: RequestContext, req: LLMRequest): string {
  const fallbacks = req.fallbacks.map((f) => {
    const i = f.indexOf('/');
    return i > 0 ? { provider: f.slice(0, i), model: f.slice(i + 1) } : { provider: '', model: f };
  });
  const request = { request_type: req.request_type, provider: req.provider, model: req.model, input: req.input, params: req.params, fallbacks };
  return `{"context":${ctxJson(ctx)},"request":${JSON.stringify(request)}}`;
}

export function postLLMInput(ctx: RequestContext, resp: LLMResponse | null, err: LLMError | null): string {
  return `{"context":${ctxJson(ctx)},"response":${resp ? rawEnvelopeJson(resp) ?? JSON.stringify(resp) : 'null'},"error":${err ? JSON.stringify(err) : '{}'},"has_error":${err ? 'true' : 'false'}}`;
}

// ---- outputs ------------------------------------------------------------------------------

/** Client bodies may nest 64 levels (client.max_json_depth); an envelope adds a few. */
const MAX_OUTPUT_DEPTH = 128;

/** JSON.parse plus "must be an object". `null` (no output) stays null: pass-through. */
function parseObject(text: string | null): Obj | null {
  if (text === null) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ShapeError(`output is not valid JSON (${(err as Error).message}): ${preview(text)}`);
  }
  if (!isObj(v)) throw new ShapeError(`output must be a JSON object, got ${Array.isArray(v) ? 'an array' : typeof v}: ${preview(text)}`);
  // An output nested past the cap would blow the stack of whoever serialises it next (another
  // plugin's hook): refuse it here, where the blame is right. Short outputs cannot be that deep.
  if (text.length > 2 * MAX_OUTPUT_DEPTH && deeperThan(v, MAX_OUTPUT_DEPTH)) {
    throw new ShapeError(`output nests objects/arrays deeper than ${MAX_OUTPUT_DEPTH} levels`);
  }
  return v;
}

function preview(text: string): string {
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}...` : text);
}

function field<T>(o: Obj, key: string, check: (v: unknown) => v is T, want: string): T | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (!check(v)) throw new ShapeError(`"${key}" must be ${want}, got ${Array.isArray(v) ? 'an array' : typeof v}`);
  return v;
}
const isStr = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Headers/query: string values; `null` means "remove" (superset); numbers and booleans are stringified. */
export type StrMapPatch = Record<string, string | null>;
function strMap(o: Obj, key: string): StrMapPatch | null {
  const m = field(o, key, isObj, 'an object');
  if (!m) return null;
  const out: StrMapPatch = Object.create(null) as StrMapPatch;
  for (const k in m) {
    const v = m[k];
    if (v === null || typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else throw new ShapeError(`"${key}.${k}" must be a string or null`);
  }
  return out;
}

export interface HttpRequestPatch { method: string | null; path: string | null; headers: StrMapPatch | null; query: StrMapPatch | null; body: string | null }
export interface HttpResponseOut { status_code: number | null; headers: StrMapPatch | null; body: string | null }

function httpRequestPatch(o: Obj): HttpRequestPatch {
  return { method: field(o, 'method', isStr, 'a string'), path: field(o, 'path', isStr, 'a string'), headers: strMap(o, 'headers'), query: strMap(o, 'query'), body: field(o, 'body', isStr, 'a base64 string') };
}

function httpResponse(o: Obj): HttpResponseOut {
  const status = field(o, 'status_code', isNum, 'a number');
  if (status !== null && (!Number.isInteger(status) || status < 100 || status > 599)) throw new ShapeError(`"status_code" ${status} is not an HTTP status`);
  return { status_code: status, headers: strMap(o, 'headers'), body: field(o, 'body', isStr, 'a base64 string') };
}

export interface HttpPreOut { context: Obj | null; request: HttpRequestPatch | null; response: HttpResponseOut | null; error: string | null }
export function parseHttpPre(text: string | null): HttpPreOut | null {
  const o = parseObject(text);
  if (!o) return null;
  const req = field(o, 'request', isObj, 'an object');
  const resp = field(o, 'response', isObj, 'an object');
  const has = field(o, 'has_response', isBool, 'a boolean');
  if (has === true && !resp) throw new ShapeError('"has_response" is true but "response" is missing');
  return {
    context: field(o, 'context', isObj, 'an object'),
    request: req ? httpRequestPatch(req) : null,
    // `response` short-circuits unless the plugin says has_response: false.
    response: resp && has !== false ? httpResponse(resp) : null,
    error: field(o, 'error', isStr, 'a string'),
  };
}

export interface HttpPostOut { context: Obj | null; response: HttpResponseOut | null; error: string | null }
export function parseHttpPost(text: string | null): HttpPostOut | null {
  const o = parseObject(text);
  if (!o) return null;
  const resp = field(o, 'response', isObj, 'an object');
  return { context: field(o, 'context', isObj, 'an object'), response: resp ? httpResponse(resp) : null, error: field(o, 'error', isStr, 'a string') };
}

export interface ChunkOut { context: Obj | null; chunk: Obj | null; hasChunk: boolean | null; skip: boolean; error: string | null }
export function parseStreamChunk(text: string | null): ChunkOut | null {
  const o = parseObject(text);
  if (!o) return null;
  let chunk: Obj | null = null;
  const c = o.chunk;
  if (typeof c === 'string') {
    // Superset: the Rust documents declare the chunk as base64 of the JSON.
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(c, 'base64').toString('utf8'));
    } catch {
      throw new ShapeError('"chunk" is a string but not base64 of a JSON object');
    }
    if (!isObj(decoded)) throw new ShapeError('"chunk" (base64) does not hold a JSON object');
    chunk = decoded;
  } else {
    chunk = field(o, 'chunk', isObj, 'an object or a base64 string');
  }
  return {
    context: field(o, 'context', isObj, 'an object'),
    chunk,
    hasChunk: field(o, 'has_chunk', isBool, 'a boolean'),
    skip: field(o, 'skip', isBool, 'a boolean') === true,
    error: field(o, 'error', isStr, 'a string'),
  };
}

export interface PreLLMOut { context: Obj | null; request: Obj | null; shortCircuit: { response: Obj | null; error: Obj | null } | null; error: string | null }
export function parsePreLLM(text: string | null): PreLLMOut | null {
  const o = parseObject(text);
  if (!o) return null;
  let request = field(o, 'request', isObj, 'an object');
  if (request && isObj(request.chat_request)) request = request.chat_request; // superset: nested form
  if (request && Object.keys(request).length === 0) request = null; // {} keeps the original
  if (request) {
    field(request, 'provider', isStr, 'a string');
    field(request, 'model', isStr, 'a string');
    field(request, 'params', isObj, 'an object');
    field(request, 'fallbacks', Array.isArray, 'an array');
  }
  const sc = field(o, 'short_circuit', isObj, 'an object');
  const has = field(o, 'has_short_circuit', isBool, 'a boolean');
  let shortCircuit: PreLLMOut['shortCircuit'] = null;
  if (sc && has !== false) {
    // TinyGo guests marshal Go's untagged struct as {"Response":..,"Error":..}.
    const response = field(sc, sc.response !== undefined ? 'response' : 'Response', isObj, 'an object');
    const error = field(sc, sc.error !== undefined ? 'error' : 'Error', isObj, 'an object');
    if (response || error) shortCircuit = { response, error };
  }
  if (has === true && !shortCircuit) throw new ShapeError('"has_short_circuit" is true but "short_circuit" has no response or error');
  return { context: field(o, 'context', isObj, 'an object'), request, shortCircuit, error: field(o, 'error', isStr, 'a string') };
}

export interface PostLLMOut { context: Obj | null; response: Obj | null; error: Obj | null; hasError: boolean | null; hookError: string | null }
export function parsePostLLM(text: string | null): PostLLMOut | null {
  const o = parseObject(text);
  if (!o) return null;
  return {
    context: field(o, 'context', isObj, 'an object'),
    response: nothingSet(field(o, 'response', isObj, 'an object')),
    error: field(o, 'error', isObj, 'an object'),
    hasError: field(o, 'has_error', isBool, 'a boolean'),
    hookError: field(o, 'hook_error', isStr, 'a string'),
  };
}

/**
 * An object whose every value is null is no value: Go marshals an empty untagged response struct as
 * `{"ChatResponse":null,"TextCompletionResponse":null,...}` (what a TinyGo plugin that could not read
 * its input echoes), and `{}` is the same "no response".
 */
function nothingSet(o: Obj | null): Obj | null {
  if (!o) return null;
  for (const k in o) if (o[k] !== null) return o;
  return null;
}
