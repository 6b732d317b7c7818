import type { RequestContext } from '../schema/context.js';
import { GatewayError, fromLLMError, isEmptyLLMError, type LLMError } from '../schema/errors.js';
import type { HttpRequestData, HttpResponseData } from '../schema/http.js';
import type { LLMRequest } from '../schema/request.js';
import { dropRawBody, type LLMResponse } from '../schema/response.js';
import type { StreamChunk } from '../schema/stream.js';
import { PluginRejection, type ChunkObject, type OnError, type Plugin, type PluginEntry, type PreLLMShortCircuit } from './plugin.js';
import { isRecord, checkHttpRequest, checkHttpResponse, checkHttpPre, checkPreLLM, checkPostLLM, checkRequest, checkResponse, checkChunk } from './output-checks.js';
import { dropFramingHeaders } from './framing.js';
import { PluginFailures, SKIPPED, isThenable, type HookName, type HookTimer, invokeHook } from './invoke.js';

export type { PluginEntry } from './plugin.js';

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
  /** Told the first time each plugin's response carried framing headers (dropped, framing.ts). */
  onFramingDropped: ((plugin: string, headers: string[]) => void) | undefined;
  readonly #framingReported = new Set<string>();
  readonly #httpPre: Slot[];
  readonly #httpPost: Slot[];
  readonly #chunk: Slot[];
  readonly #preLLM: Slot[];
  readonly #postLLM: Slot[];

  /** Entries left out at start-up because they failed to load under fail_open (for /health). */
  readonly notLoaded: ReadonlyArray<{ name: string; path: string; error: string }>;

  constructor(entries: PluginEntry[], notLoaded: ReadonlyArray<{ name: string; path: string; error: string }> = []) {
    this.entries = entries;
    this.notLoaded = notLoaded;
    const slots = (has: (p: Plugin) => boolean): Slot[] => entries.flatMap((entry, index) => (has(entry.plugin) ? [{ entry, index }] : []));
    this.#httpPre = slots((p) => typeof p.httpTransportPreHook === 'function');
    this.#httpPost = slots((p) => typeof p.httpTransportPostHook === 'function').reverse();
    this.#chunk = slots((p) => typeof p.httpTransportStreamChunkHook === 'function' || typeof p.httpTransportStreamChunkHookJson === 'function').reverse();
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
      if (out !== SKIPPED && out && (out as unknown) !== req) {
        const response = out as HttpResponseData;
        this.#dropFraming(entry.name, response.headers);
        return { response, error: undefined, ran: index };
      }
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
      } catch (err) {
        // A busy plugin did not look at the answer: it is not sent unchecked (see PluginRejection).
        if (resp && err instanceof PluginRejection && err.error.error?.code === 'GH_ERR_PLUGIN_BUSY' && resp.body !== null) {
          const e = fromLLMError(err.error);
          Object.assign(resp, { status_code: e.status, headers: { 'content-type': 'application/json', 'retry-after': '1' }, body: Buffer.from(JSON.stringify(e.toBody())) });
          return;
        }
        out = SKIPPED;
      }
      if (out === SKIPPED) {
        if (resp && saved && checkHttpResponse(resp, '') !== undefined) Object.assign(resp, saved);
        // A failing hook may still have set headers in place before it threw.
        if (resp && isRecord(resp.headers)) this.#dropFraming(entry.name, resp.headers);
        return;
      }
      if (resp) this.#dropFraming(entry.name, resp.headers);
    }
  }

  /** The gateway frames the answer: a plugin's content-length, connection, ... are dropped, reported once per plugin. */
  #dropFraming(plugin: string, headers: Record<string, string>): void {
    const dropped = dropFramingHeaders(headers);
    if (dropped && this.onFramingDropped && !this.#framingReported.has(plugin)) {
      this.#framingReported.add(plugin);
      this.onFramingDropped(plugin, dropped);
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
      // A hook that gets the live object may change it in place: keep a copy to restore on a
      // skipped failure, and the provider's text no longer describes it. Copy-only hosts need neither.
      const copies = entry.plugin.receivesCopies === true;
      if (r && !copies) dropRawBody(r);
      const saved = r && !copies ? { ...r } : null;
      try {
        out = invokeHook(this, entry, 'postLLMHook', ctx, () => entry.plugin.postLLMHook!(ctx, r, err), undefined, (o) => checkPostLLM(o, copies ? null : r));
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
      const p = entry.plugin;
      let value: ChunkObject | undefined;
      let out;
      if (p.httpTransportStreamChunkHookJson) {
        const json = chunk.json;
        out = invokeHook(this, entry, 'httpTransportStreamChunkHook', ctx, () => p.httpTransportStreamChunkHookJson!(ctx, req, json), undefined, checkChunk);
      } else {
        const v = (value = chunk.value as ChunkObject);
        out = invokeHook(this, entry, 'httpTransportStreamChunkHook', ctx, () => p.httpTransportStreamChunkHook!(ctx, req, v), undefined, checkChunk);
      }
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
