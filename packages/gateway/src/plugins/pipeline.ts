import type { RequestContext } from '../schema/context.js';
import { GatewayError, isEmptyLLMError, type LLMError } from '../schema/errors.js';
import type { HttpRequestData, HttpResponseData } from '../schema/http.js';
import type { LLMRequest } from '../schema/request.js';
import { responseBody, type LLMResponse } from '../schema/response.js';
import type { StreamChunk } from '../schema/stream.js';
import { PluginRejection, type ChunkObject, type OnError, type Plugin, type PreLLMShortCircuit } from './plugin.js';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { PluginFailures, SKIPPED, isThenable, type HookName, type HookTimer, invokeHook } from './invoke.js';

/** A loaded plugin with its policy, in pipeline order. */
export interface PluginEntry {
  plugin: Plugin;
  name: string;
  onError: OnError;
  /** Per-hook deadline for native plugins (WASM hosts enforce their own). */
  timeoutMs: number | undefined;
}

interface Slot { entry: PluginEntry; index: number }

export interface PreLLMOutcome {
  request: LLMRequest;
  shortCircuit: PreLLMShortCircuit | undefined;
  /** How many plugins (from the start) had their pre-hook run: post-hooks run for these only. */
  ran: number;
}

/**
 * Runs the hooks of the plugin contract (section 1) over the ordered plugins. Hook lists are
 * computed once at construction, so a hook no plugin implements costs an empty-array check.
 */
export class PluginPipeline {
  readonly entries: readonly PluginEntry[];
  readonly failures = new PluginFailures();
  /** Per-hook timing for debug logs; undefined (and free) unless debug logging is on. */
  onTiming: HookTimer | undefined;
  readonly #httpPre: Slot[];
  readonly #httpPost: Slot[];
  readonly #chunk: Slot[];
  readonly #preLLM: Slot[];
  readonly #postLLM: Slot[];

  constructor(entries: PluginEntry[]) {
    this.entries = entries;
    const slots = (has: (p: Plugin) => boolean): Slot[] => entries.flatMap((entry, index) => (has(entry.plugin) ? [{ entry, index }] : []));
    this.#httpPre = slots((p) => typeof p.httpTransportPreHook === 'function');
    this.#httpPost = slots((p) => typeof p.httpTransportPostHook === 'function').reverse();
    this.#chunk = slots((p) => typeof p.httpTransportStreamChunkHook === 'function').reverse();
    this.#preLLM = slots((p) => typeof p.preLLMHook === 'function');
    this.#postLLM = slots((p) => typeof p.postLLMHook === 'function').reverse();
  }

  get hasHttpPre(): boolean { return this.#httpPre.length > 0; }
  get hasHttpPost(): boolean { return this.#httpPost.length > 0; }
  get hasStreamChunk(): boolean { return this.#chunk.length > 0; }
  get hasPreLLM(): boolean { return this.#preLLM.length > 0; }
  get hasPostLLM(): boolean { return this.#postLLM.length > 0; }
  /** Whether any hook needs the HTTP request view. */
  get needsHttpView(): boolean { return this.hasHttpPre || this.hasHttpPost || this.hasStreamChunk; }

  /**
   * Transport pre-hooks in order. Returns the short-circuit response, if any, and how many plugins
   * ran (transport post-hooks then run for plugins before the one that short-circuited).
   */
  async runHttpPre(ctx: RequestContext, req: HttpRequestData): Promise<{ response: HttpResponseData | undefined; error: unknown; ran: number }> {
    const method = req.method;
    const path = req.path;
    for (const { entry, index } of this.#httpPre) {
      // Whatever stops the request at plugin i (answer, failure, 409), transport post-hooks run for 0..i-1.
      let out;
      const { headers, query, body } = req;
      try {
        out = invokeHook(this, entry, 'httpTransportPreHook', ctx, () => entry.plugin.httpTransportPreHook!(ctx, req), undefined, (o) => checkHttpPre(o, req));
        if (isThenable(out)) out = await out;
      } catch (error) {
        return { response: undefined, error, ran: index };
      }
      // fail_open over a request left broken: the plugin's changes are undone.
      if (out === SKIPPED && checkHttpRequest(req) !== undefined) Object.assign(req, { headers, query, body });
      if (req.method !== method || req.path !== path) {
        const error = new GatewayError('GH_ERR_ROUTE_CHANGED_BY_PLUGIN', `plugin "${entry.name}" changed the request method or path in httpTransportPreHook; this is not allowed`);
        return { response: undefined, error, ran: index };
      }
      if (out !== SKIPPED && out && (out as unknown) !== req) return { response: out as HttpResponseData, error: undefined, ran: index };
    }
    return { response: undefined, error: undefined, ran: this.entries.length };
  }


  /** Transport post-hooks in reverse, for plugins before `ran`. A failure is logged and stops the rest. */
  async runHttpPost(ctx: RequestContext, req: HttpRequestData, resp: HttpResponseData | null, ran = this.entries.length): Promise<void> {
    for (const { entry, index } of this.#httpPost) {
      if (index >= ran) continue;
      // The contract: a failing transport post-hook is logged (fail_open) and stops the rest; a
      // response it left unsendable is put back as it was.
      const saved = resp ? { ...resp, headers: isRecord(resp.headers) ? { ...resp.headers } : resp.headers } : null;
      const check = resp ? (): string | undefined => checkHttpResponse(resp, 'left resp') : undefined;
      let out;
      try {
        out = invokeHook(this, entry, 'httpTransportPostHook', ctx, () => entry.plugin.httpTransportPostHook!(ctx, req, resp), 'fail_open', check);
        if (isThenable(out)) out = await out;
      } catch {
        out = SKIPPED;
      }
      if (out === SKIPPED) {
        if (resp && saved && checkHttpResponse(resp, '') !== undefined) Object.assign(resp, saved);
        return;
      }
    }
  }

  /** LLM pre-hooks in order; runs again for every fallback attempt. */
  async runPreLLM(ctx: RequestContext, request: LLMRequest): Promise<PreLLMOutcome> {
    let req = request;
    for (const { entry, index } of this.#preLLM) {
      let out;
      const current = req;
      const saved = { ...req };
      try {
        out = invokeHook(this, entry, 'preLLMHook', ctx, () => entry.plugin.preLLMHook!(ctx, current), undefined, (o) => checkPreLLM(o, current));
        if (isThenable(out)) out = await out;
      } catch (err) {
        // A failing pre-hook under fail_closed ends the request like a short-circuit with an error.
        const e = err instanceof PluginRejection ? err.error : (err as GatewayError).toLLMError();
        return { request: req, shortCircuit: { error: e }, ran: index };
      }
      if (out === SKIPPED) {
        // fail_open over a request changed in place into something invalid: the change is undone.
        if (checkRequest(req, 'left req') !== undefined) req = saved;
        continue;
      }
      if (!out) continue;
      if (out.request && Object.keys(out.request).length > 0) req = out.request;
      const sc = out.shortCircuit;
      if (sc && (sc.response || sc.error)) return { request: req, shortCircuit: sc, ran: index + 1 };
    }
    return { request: req, shortCircuit: undefined, ran: this.entries.length };
  }

  /**
   * LLM post-hooks in reverse for plugins before `ran`. Each may replace the response and the
   * error. At the end an empty error beside a response is a recovery; otherwise the error wins.
   */
  async runPostLLM(ctx: RequestContext, response: LLMResponse | null, error: LLMError | null, ran = this.entries.length): Promise<{ response: LLMResponse | null; error: LLMError | null }> {
    let resp = response;
    let err = error;
    for (const { entry, index } of this.#postLLM) {
      if (index >= ran) continue;
      let out;
      const r = resp;
      const saved = r ? { ...r } : null;
      try {
        out = invokeHook(this, entry, 'postLLMHook', ctx, () => entry.plugin.postLLMHook!(ctx, r, err), undefined, (o) => checkPostLLM(o, r));
        if (isThenable(out)) out = await out;
      } catch (e) {
        err = e instanceof PluginRejection ? e.error : (e as GatewayError).toLLMError();
        resp = null;
        continue;
      }
      if (out === SKIPPED) {
        if (r && saved && checkResponse(r, '') !== undefined) resp = saved;
        continue;
      }
      if (!out) continue;
      if ('response' in out) resp = out.response ?? null;
      if ('error' in out) err = out.error ?? null;
    }
    if (err && isEmptyLLMError(err)) err = null;
    if (err) resp = null;
    return { response: resp, error: err };
  }

  /** Stream chunk hooks in reverse. Returns the chunk to write, or null to drop it; throws to end the stream. */
  async runStreamChunk(ctx: RequestContext, req: HttpRequestData, chunk: StreamChunk): Promise<StreamChunk | null> {
    for (const { entry } of this.#chunk) {
      const value = chunk.value as ChunkObject;
      let out = invokeHook(this, entry, 'httpTransportStreamChunkHook', ctx, () => entry.plugin.httpTransportStreamChunkHook!(ctx, req, value), undefined, checkChunk);
      if (isThenable(out)) out = await out;
      // Returning nothing is "no change" (the contract's rule for every hook); null drops the event.
      if (out === SKIPPED || out === undefined) continue;
      if (out === null) return null;
      if (out !== value) chunk.value = out as ChunkObject;
    }
    return chunk;
  }

  async cleanup(log: (plugin: string, err: unknown) => void): Promise<void> {
    for (const e of this.entries) {
      try {
        await e.plugin.cleanup?.();
      } catch (err) {
        log(e.name, err);
      }
    }
  }
}

export type { HookName };

// ---- hook outputs, checked at the pipeline boundary ------------------------------------------
// A wrong type from a native hook is a plugin failure (handled by on_error, with a message naming
// the plugin and the hook), never a crash further on. Each check returns what is wrong, or undefined.

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'a Uint8Array';
  const t = typeof v;
  return t === 'object' || t === 'undefined' ? t : `a ${t}`;
}

const REQUEST_TYPES = new Set(['chat_completion', 'text_completion', 'embedding']);

function checkHttpRequest(req: HttpRequestData): string | undefined {
  if (!isRecord(req.headers)) return `left req.headers as ${kind(req.headers)}; it must be an object`;
  if (!isRecord(req.query)) return `left req.query as ${kind(req.query)}; it must be an object`;
  if (req.body !== null && !(req.body instanceof Uint8Array)) return `set req.body to ${kind(req.body)}; it must be a Uint8Array or null`;
  return undefined;
}

function checkHttpResponse(resp: unknown, what: string): string | undefined {
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

function checkHttpPre(out: unknown, req: HttpRequestData): string | undefined {
  const bad = checkHttpRequest(req);
  if (bad !== undefined) return bad;
  // Returning the request itself is taken as "no change".
  if (out === undefined || out === null || out === req) return undefined;
  if (!isRecord(out)) return `returned ${kind(out)}; expected nothing or an HttpResponseData object`;
  return checkHttpResponse(out, 'returned a response');
}

function checkRequest(req: unknown, what: string): string | undefined {
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
function checkResponse(resp: unknown, what: string): string | undefined {
  if (!isRecord(resp)) return `${what} ${kind(resp)} as the response; expected an LLMResponse object or null`;
  if (!isRecord(responseBody(resp as LLMResponse))) return `${what} a response with no object under chat_response, text_completion_response or embedding_response`;
  return undefined;
}

function checkError(err: unknown, what: string): string | undefined {
  return err === null || err === undefined || isRecord(err) ? undefined : `${what} ${kind(err)} as the error; expected an LLMError object or null`;
}

function checkPreLLM(out: unknown, req: LLMRequest): string | undefined {
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

function checkPostLLM(out: unknown, resp: LLMResponse | null): string | undefined {
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

function checkChunk(out: unknown): string | undefined {
  return out === undefined || out === null || isRecord(out) ? undefined : `returned ${kind(out)}; expected the chunk (an object), a new object, or null to drop it`;
}
