// One function per hook of the interface. Each reads the host's JSON, builds the typed values,
// calls the plugin's handler, and writes the output JSON the contract expects for that hook.
// Handlers are plain functions (top-level functions or non-capturing arrow functions).
import { JSON } from "json-as";
import { readInput, writeOutput } from "./abi";
import { HttpRequest, HttpResponse } from "./http";
import { LLMError, LLMRequest, LLMResponse, PostResult, ShortCircuit, StreamChunk } from "./llm";
import { Config, Context, objAt, quote, read } from "./values";

let pendingError: string | null = null;

/**
 * Reports an error from the hook being run; the hook's other results still apply. What the
 * gateway does with it depends on the hook: http_pre_hook fails the request (HTTP 500),
 * http_post_hook is logged, http_stream_chunk_hook without a chunk ends the stream with an error,
 * pre_hook is logged (only a short-circuit stops a request), post_hook is logged as hook_error.
 */
export function fail(message: string): void {
  pendingError = message;
}

function takeError(): string {
  const e = pendingError;
  pendingError = null;
  return e === null ? "" : e;
}

function parseInput(ptr: u32, len: u32): JSON.Obj {
  pendingError = null;
  return JSON.parse<JSON.Obj>(readInput(ptr, len));
}

function contextOf(o: JSON.Obj): Context {
  const c = objAt(o, "context");
  return new Context(c !== null ? c : new JSON.Obj());
}

function requestOf(o: JSON.Obj): HttpRequest {
  const r = objAt(o, "request");
  return r !== null ? HttpRequest.fromObj(r) : new HttpRequest();
}

/** `init(config_ptr, config_len) -> i32`: the handler returns true when the config is usable. */
export function init(ptr: u32, len: u32, handler: (config: Config) => bool): i32 {
  // No `config` in the entry: the host passes length 0 (Bifrost's nil config); an empty Config.
  if (len == 0) return handler(new Config(new JSON.Obj())) ? 0 : 1;
  const v = JSON.parse<JSON.Value>(readInput(ptr, len));
  const cfg = new Config(v.type == JSON.Types.Object ? v.get<JSON.Obj>() : new JSON.Obj());
  return handler(cfg) ? 0 : 1;
}

/**
 * http_pre_hook: change `req` in place (headers, query, body) and return null to go on, or return
 * an HttpResponse to answer the request without going further.
 */
export function httpPreHook(ptr: u32, len: u32, handler: (ctx: Context, req: HttpRequest) => HttpResponse | null): u64 {
  const o = parseInput(ptr, len);
  const ctx = contextOf(o);
  const req = requestOf(o);
  const resp = handler(ctx, req);
  const changes = req.changesJSON();
  return writeOutput('{"context":' + ctx.toJSON() +
    ',"request":' + (changes !== null ? changes : "null") +
    ',"response":' + (resp !== null ? resp.toJSON() : "null") +
    ',"has_response":' + (resp !== null ? "true" : "false") +
    ',"error":' + quote(takeError()) + "}");
}

/** http_post_hook: change `resp` in place (status, headers, body). `resp` is null after a stream. */
export function httpPostHook(ptr: u32, len: u32, handler: (ctx: Context, req: HttpRequest, resp: HttpResponse | null) => void): u64 {
  const o = parseInput(ptr, len);
  const ctx = contextOf(o);
  const req = requestOf(o);
  const r = objAt(o, "response");
  const resp = r !== null ? HttpResponse.fromObj(r) : null;
  handler(ctx, req, resp);
  const changes = resp !== null ? resp.changesJSON() : null;
  return writeOutput('{"context":' + ctx.toJSON() +
    (changes !== null ? ',"response":' + changes : "") +
    ',"error":' + quote(takeError()) + "}");
}

/** http_stream_chunk_hook: return the chunk (changed or not) to send it, or null to drop it. */
export function streamChunkHook(ptr: u32, len: u32, handler: (ctx: Context, req: HttpRequest, chunk: StreamChunk) => StreamChunk | null): u64 {
  const o = parseInput(ptr, len);
  const ctx = contextOf(o);
  const req = requestOf(o);
  const c = objAt(o, "chunk");
  const out = handler(ctx, req, new StreamChunk(c !== null ? c : new JSON.Obj()));
  return writeOutput('{"context":' + ctx.toJSON() +
    ',"chunk":' + (out !== null ? out.toJSON() : "null") +
    ',"has_chunk":' + (out !== null ? "true" : "false") +
    ',"skip":' + (out !== null ? "false" : "true") +
    ',"error":' + quote(takeError()) + "}");
}

/**
 * pre_hook: change `req` (model, params, ...) and return null to go on, or return a ShortCircuit
 * (`shortCircuit.error(...)`, `shortCircuit.reply(...)`) to answer without calling the provider.
 */
export function preHook(ptr: u32, len: u32, handler: (ctx: Context, req: LLMRequest) => ShortCircuit | null): u64 {
  const o = parseInput(ptr, len);
  const ctx = contextOf(o);
  let r = objAt(o, "request");
  if (r !== null) {
    const nested = objAt(r, "chat_request"); // the nested form some hosts send
    if (nested !== null) r = nested;
  }
  const req = r !== null ? LLMRequest.fromObj(r) : new LLMRequest();
  const sc = handler(ctx, req);
  return writeOutput('{"context":' + ctx.toJSON() +
    ',"request":' + (sc === null && req.changed ? req.toJSON() : "null") +
    ',"short_circuit":' + (sc !== null ? sc.toJSON() : "null") +
    ',"has_short_circuit":' + (sc !== null ? "true" : "false") +
    ',"error":' + quote(takeError()) + "}");
}

/**
 * post_hook: `resp` and `err` are what the provider (or an earlier plugin) produced; either may be
 * null. Return null to leave them, or a PostResult to recover from an error or to fail a response.
 */
export function postHook(ptr: u32, len: u32, handler: (ctx: Context, resp: LLMResponse | null, err: LLMError | null) => PostResult | null): u64 {
  const o = parseInput(ptr, len);
  const ctx = contextOf(o);
  const r = objAt(o, "response");
  const e = objAt(o, "error");
  const hasError = read<bool>(o, "has_error", e !== null && e.keys().length > 0);
  const result = handler(ctx, r !== null ? new LLMResponse(r) : null, hasError && e !== null ? LLMError.fromObj(e) : null);
  let body: string;
  if (result === null) {
    body = ',"response":null,"error":{},"has_error":false';
  } else {
    const resp = result.response;
    const err = result.error;
    body = ',"response":' + (resp !== null ? resp.toJSON() : "null") +
      ',"error":' + (err !== null ? err.toJSON() : "{}") +
      ',"has_error":' + (err !== null ? "true" : "false");
  }
  return writeOutput('{"context":' + ctx.toJSON() + body + ',"hook_error":' + quote(takeError()) + "}");
}
