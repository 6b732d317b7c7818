/**
 * The Plugin object a WASM module becomes: one method per hook the module exports (a missing
 * method tells the pipeline "no plugin implements this hook"), each building the hook's JSON,
 * running it through the runner, and applying the checked output to the request as the contract's
 * native equivalents do (mutate in place, return a short-circuit, or throw).
 */
import type { RequestContext } from '../../schema/context.js';
import type { LLMError } from '../../schema/errors.js';
import { emptyMap } from '../../schema/maps.js';
import type { HttpRequestData, HttpResponseData } from '../../schema/http.js';
import type { LLMRequest } from '../../schema/request.js';
import type { LLMResponse } from '../../schema/response.js';
import { PluginRejection, type ChunkObject, type Plugin, type PluginLogger, type PostLLMResult, type PreLLMResult } from '../plugin.js';
import { WasmPluginError } from './errors.js';
import type { Runner } from './runner.js';
import * as S from './shapes.js';
import { PoolBusyError } from './worker/pool.js';
import type { AbiShape } from './validate.js';

export interface WasmPlugin extends Plugin {
  /** What the module's `get_name` returned, if it has one. */
  readonly reportedName: string | null;
  /**
   * For the `gatehouse plugin run/test` tools: one hook call with raw JSON text in and out (no
   * shape check, nothing applied), and the live instance's memory size (null when not known).
   */
  readonly raw: { call(hook: string, input: string): string | null | Promise<string | null>; memoryBytes(): number | null; mallocReturnedZero(): boolean };
}

type Then = <A, B>(x: A | Promise<A>, f: (a: A) => B) => B | Promise<B>;
/** Keeps inline calls synchronous: no promise, no microtask, when the runner answered directly. */
const then: Then = (x, f) => (x instanceof Promise ? x.then(f) : f(x)) as never;

export function createWasmPlugin(name: string, reportedName: string | null, shape: AbiShape, runner: Runner, log: PluginLogger, droppedLogBytes?: () => number): WasmPlugin {
  const run = <T>(hook: string, input: string, parse: (t: string | null) => T): T | Promise<T> => {
    let r: T | Promise<T>;
    try {
      r = runner.call(hook, input, parse);
    } catch (err) {
      throw fail(hook, err);
    }
    return r instanceof Promise ? r.catch((err: unknown) => { throw fail(hook, err); }) : r;
  };
  const fail = (hook: string, err: unknown): Error => {
    // Busy is not broken: a refusal the client sees (503), never a skip under fail_open.
    if (err instanceof PoolBusyError) {
      return new PluginRejection({
        status_code: 503, allow_fallbacks: false,
        error: { message: `plugin "${name}" is busy in ${hook}: ${err.message}; retry later`, type: 'plugin_error', code: 'GH_ERR_PLUGIN_BUSY' },
      });
    }
    return new WasmPluginError(name, hook, err instanceof Error ? err.message : String(err), true, { cause: err });
  };
  const answered = (hook: string, msg: string): Error => new WasmPluginError(name, hook, msg, false);

  const plugin: { -readonly [K in keyof WasmPlugin]: WasmPlugin[K] } = {
    name,
    reportedName,
    // Hook arguments are serialised for the guest: nothing it does can change them in place.
    receivesCopies: true,
    isHealthy: () => runner.isHealthy(),
    ...(droppedLogBytes ? { droppedLogBytes } : {}),
    cleanup: () => runner.cleanup(),
    raw: {
      call: (hook, input) => runner.call(hook, input, (t) => t),
      memoryBytes: () => runner.memoryBytes?.() ?? null,
      mallocReturnedZero: () => runner.mallocReturnedZero?.() ?? false,
    },
  };
  const has = (h: string): boolean => (shape.hooks as string[]).includes(h);

  const pre = has('http_pre_hook') ? 'http_pre_hook' : has('http_intercept') ? 'http_intercept' : null;
  if (pre) {
    plugin.httpTransportPreHook = (ctx: RequestContext, req: HttpRequestData) =>
      then(run(pre, S.httpPreInput(ctx, req), S.parseHttpPre), (out) => {
        if (!out) return undefined;
        if (out.context) ctx.merge(out.context);
        if (out.error) throw answered(pre, out.error);
        if (out.request) patchRequest(req, out.request);
        return out.response ? toHttpResponse(out.response) : undefined;
      });
  }

  if (has('http_post_hook')) {
    plugin.httpTransportPostHook = (ctx: RequestContext, req: HttpRequestData, resp: HttpResponseData | null) =>
      then(run('http_post_hook', S.httpPostInput(ctx, req, resp), S.parseHttpPost), (out) => {
        if (!out) return;
        if (out.context) ctx.merge(out.context);
        if (out.response && resp) {
          if (out.response.status_code !== null) resp.status_code = out.response.status_code;
          if (out.response.headers) patchMap(resp.headers, out.response.headers, true);
          if (out.response.body !== null) resp.body = S.unb64(out.response.body);
        }
        if (out.error) throw answered('http_post_hook', out.error);
      });
  }

  if (has('http_stream_chunk_hook')) {
    // The text form is what the pipeline calls: the event's JSON goes in as it came, unparsed.
    const chunkHook = (ctx: RequestContext, req: HttpRequestData, chunkJson: string) =>
      then(run('http_stream_chunk_hook', S.streamChunkInput(ctx, req, chunkJson), S.parseStreamChunk), (out): ChunkObject | null | undefined => {
        if (!out) return undefined;
        if (out.context) ctx.merge(out.context);
        if (out.skip) return null;
        if (out.chunk) {
          if (out.error) log.warn({ plugin: name, hook: 'http_stream_chunk_hook', error: out.error }, 'wasm plugin reported an error with a chunk; chunk sent');
          return out.chunk;
        }
        if (out.error) throw new PluginRejection({ status_code: 500, error: { message: out.error, type: 'plugin_error' } });
        return out.hasChunk === false ? null : undefined;
      });
    plugin.httpTransportStreamChunkHookJson = chunkHook;
    plugin.httpTransportStreamChunkHook = (ctx: RequestContext, req: HttpRequestData, chunk: ChunkObject) =>
      then(chunkHook(ctx, req, JSON.stringify(chunk)), (out) => (out === undefined ? chunk : out));
  }

  if (has('pre_hook')) {
    plugin.preLLMHook = (ctx: RequestContext, req: LLMRequest) =>
      then(run('pre_hook', S.preLLMInput(ctx, req), S.parsePreLLM), (out): PreLLMResult => {
        if (!out) return undefined;
        if (out.context) ctx.merge(out.context);
        // Contract: a plain error does not block the request; only short_circuit does.
        if (out.error) log.warn({ plugin: name, hook: 'pre_hook', error: out.error }, 'wasm plugin pre_hook reported an error (not blocking)');
        if (out.shortCircuit) {
          return out.shortCircuit.response
            ? { shortCircuit: { response: out.shortCircuit.response as LLMResponse } }
            : { shortCircuit: { error: out.shortCircuit.error as LLMError } };
        }
        return out.request ? { request: mergeRequest(req, out.request) } : undefined;
      });
  }

  if (has('post_hook')) {
    plugin.postLLMHook = (ctx: RequestContext, resp: LLMResponse | null, err: LLMError | null) =>
      then(run('post_hook', S.postLLMInput(ctx, resp, err), S.parsePostLLM), (out): PostLLMResult => {
        if (!out) return undefined;
        if (out.context) ctx.merge(out.context);
        if (out.hookError) log.warn({ plugin: name, hook: 'post_hook', error: out.hookError }, 'wasm plugin post_hook reported an error');
        const hasError = out.hasError ?? (out.error !== null && Object.keys(out.error).length > 0);
        // Nothing returned (the documents' pass-through: response null, has_error false): unchanged.
        if (!out.response && !hasError) return undefined;
        if (!hasError) return { response: out.response as LLMResponse, error: null };
        return { response: (out.response as LLMResponse | null) ?? null, error: ((out.error && Object.keys(out.error).length > 0 ? out.error : err) ?? {}) as LLMError };
      });
  }
  return plugin;
}

/** Header/query semantics: a present key is set (replacing any case variant), `null` removes it. */
function patchMap(target: Record<string, string>, patch: S.StrMapPatch, caseInsensitive: boolean): void {
  for (const k in patch) {
    const v = patch[k];
    if (target[k] === v) continue;
    if (caseInsensitive) {
      const lower = k.toLowerCase();
      for (const t in target) if (t !== k && t.toLowerCase() === lower) delete target[t];
    }
    if (v === null || v === undefined) delete target[k];
    else target[k] = v;
  }
}

function patchRequest(req: HttpRequestData, p: S.HttpRequestPatch): void {
  // method/path are copied so the pipeline can see the change and refuse it (409).
  if (p.method !== null) req.method = p.method;
  if (p.path !== null) req.path = p.path;
  if (p.headers) patchMap(req.headers, p.headers, true);
  if (p.query) patchMap(req.query, p.query, false);
  if (p.body !== null) req.body = S.unb64(p.body);
}

function toHttpResponse(r: S.HttpResponseOut): HttpResponseData {
  const headers = emptyMap<string>();
  if (r.headers) for (const k in r.headers) { const v = r.headers[k]; if (typeof v === 'string') headers[k] = v; }
  return { status_code: r.status_code ?? 200, headers, body: r.body === null ? null : S.unb64(r.body) };
}

/** A returned request replaces the fields it has; fallbacks come back as objects or strings. */
function mergeRequest(orig: LLMRequest, o: S.Obj): LLMRequest {
  const next: LLMRequest = { ...orig };
  if (typeof o.provider === 'string' && o.provider) next.provider = o.provider;
  if (typeof o.model === 'string' && o.model) next.model = o.model;
  if (o.input !== undefined && o.input !== null) next.input = o.input as LLMRequest['input'];
  if (S.isObj(o.params)) next.params = o.params;
  if (Array.isArray(o.fallbacks)) {
    next.fallbacks = o.fallbacks.flatMap((f): string[] => {
      if (typeof f === 'string') return [f];
      if (S.isObj(f) && typeof f.model === 'string') return [typeof f.provider === 'string' && f.provider ? `${f.provider}/${f.model}` : f.model];
      return [];
    });
  }
  return next;
}
