// hello-world-wasm-typescript: every hook leaves a value in the request context and reads what the
// earlier hooks left; http_post_hook reports them in a response header; pre_hook answers by itself
// when the model is "mock-model".
import { JSON } from "json-as";
import * as sdk from "@gatehouse/plugin-sdk";
import { Config, Context, HttpRequest, HttpResponse, LLMError, LLMRequest, LLMResponse, PostResult, ShortCircuit, StreamChunk, shortCircuit } from "@gatehouse/plugin-sdk";
import { malloc, free } from "@gatehouse/plugin-sdk";
export { malloc, free };

let header = "x-hello-wasm";
let greeting = "Hello from WebAssembly";

export function get_name(): u64 {
  return sdk.name("hello-world-wasm-typescript");
}

function onInit(cfg: Config): bool {
  header = cfg.getString("header", header);
  greeting = cfg.getString("greeting", greeting);
  return header.length > 0;
}
export function init(ptr: u32, len: u32): i32 {
  return sdk.init(ptr, len, onInit);
}

// 1. HTTP transport pre-hook: sees the raw HTTP request first.
function onHttpPre(ctx: Context, req: HttpRequest): HttpResponse | null {
  ctx.set("hello.http_pre", req.method + " " + req.path);
  return null;
}
export function http_pre_hook(ptr: u32, len: u32): u64 {
  return sdk.httpPreHook(ptr, len, onHttpPre);
}

// 2. LLM pre-hook: the parsed request; reads what http_pre_hook left.
function onPre(ctx: Context, req: LLMRequest): ShortCircuit | null {
  ctx.set("hello.pre", req.provider + "/" + req.model + " after " + ctx.getString("hello.http_pre", "nothing"));
  if (req.model == "mock-model") {
    const said = req.lastUserMessage();
    return shortCircuit.reply(req.model, greeting + " (you said: " + (said !== null ? said : "") + ")");
  }
  return null;
}
export function pre_hook(ptr: u32, len: u32): u64 {
  return sdk.preHook(ptr, len, onPre);
}

// 3. LLM post-hook: runs once for a response (or once per chunk when streaming).
function onPost(ctx: Context, resp: LLMResponse | null, err: LLMError | null): PostResult | null {
  if (err !== null) ctx.set("hello.post", "error " + err.status_code.toString());
  else if (resp !== null && resp.isChunk()) ctx.set("hello.post_chunks", ctx.get<i32>("hello.post_chunks", 0) + 1);
  else ctx.set("hello.post", "response");
  return null;
}
export function post_hook(ptr: u32, len: u32): u64 {
  return sdk.postHook(ptr, len, onPost);
}

// 4a. Streaming: every chunk just before it is written. The last one carries a summary.
function onChunk(ctx: Context, req: HttpRequest, chunk: StreamChunk): StreamChunk | null {
  const n = ctx.get<i32>("hello.chunks", 0) + 1;
  ctx.set("hello.chunks", n);
  if (chunk.finishReason() !== null) {
    const summary = new JSON.Obj();
    summary.set<string>("http_pre", ctx.getString("hello.http_pre"));
    summary.set<string>("pre", ctx.getString("hello.pre"));
    summary.set<i32>("chunks", n);
    chunk.obj.set<JSON.Obj>("hello_wasm", summary);
  }
  return chunk;
}
export function http_stream_chunk_hook(ptr: u32, len: u32): u64 {
  return sdk.streamChunkHook(ptr, len, onChunk);
}

// 4b. Not streaming: the HTTP response, last. Reports what every earlier hook left.
function onHttpPost(ctx: Context, req: HttpRequest, resp: HttpResponse | null): void {
  if (resp === null) return; // after a stream: headers are already sent
  const summary = new JSON.Obj();
  summary.set<string>("http_pre", ctx.getString("hello.http_pre"));
  summary.set<string>("pre", ctx.getString("hello.pre"));
  summary.set<string>("post", ctx.getString("hello.post"));
  resp.setHeader(header, JSON.stringify(summary));
}
export function http_post_hook(ptr: u32, len: u32): u64 {
  return sdk.httpPostHook(ptr, len, onHttpPost);
}
