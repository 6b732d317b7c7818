// content-filter-wasm: blocked words in the model's answer. Streaming: http_stream_chunk_hook drops
// a chunk that contains one (mode "drop") or masks the word (mode "mask"). Not streaming: post_hook
// masks the words in the answer (mode "mask") or replaces the answer with a 400 content_filter
// error (mode "drop").
import * as sdk from "@gatehouse/plugin-sdk";
import { Config, Context, HttpRequest, LLMError, LLMResponse, PostResult, StreamChunk } from "@gatehouse/plugin-sdk";
import { malloc, free } from "@gatehouse/plugin-sdk";
export { malloc, free };

let words: string[] = [];
let lowered: string[] = [];
let dropMode = false;
let maskChar = "*";

export function get_name(): u64 {
  return sdk.name("content-filter-wasm");
}

function onInit(cfg: Config): bool {
  words = cfg.getStrings("words");
  lowered = new Array<string>(0);
  for (let i = 0; i < words.length; i++) if (words[i].length > 0) lowered.push(words[i].toLowerCase());
  const mode = cfg.getString("mode", "mask");
  if (mode != "mask" && mode != "drop") {
    sdk.logError('content-filter-wasm: "mode" must be "mask" or "drop", got "' + mode + '"');
    return false;
  }
  dropMode = mode == "drop";
  maskChar = cfg.getString("mask", "*");
  return maskChar.length > 0;
}
export function init(ptr: u32, len: u32): i32 {
  return sdk.init(ptr, len, onInit);
}

/** True when `text` contains a blocked word (case-insensitive). */
function blocked(text: string): bool {
  const t = text.toLowerCase();
  for (let i = 0; i < lowered.length; i++) if (t.includes(lowered[i])) return true;
  return false;
}

/** `text` with every blocked word (any case) replaced by mask characters of the same length. */
function mask(text: string): string {
  let t = text.toLowerCase();
  let out = text;
  for (let i = 0; i < lowered.length; i++) {
    const w = lowered[i];
    let at = t.indexOf(w);
    while (at >= 0) {
      const stars = maskChar.repeat(w.length);
      out = out.slice(0, at) + stars + out.slice(at + w.length);
      t = t.slice(0, at) + stars + t.slice(at + w.length);
      at = t.indexOf(w, at + w.length);
    }
  }
  return out;
}

function onChunk(ctx: Context, req: HttpRequest, chunk: StreamChunk): StreamChunk | null {
  const text = chunk.content();
  if (text === null || !blocked(text)) return chunk;
  ctx.set("content_filter.hits", ctx.get<i32>("content_filter.hits", 0) + 1);
  if (dropMode) return null;
  chunk.setContent(mask(text));
  return chunk;
}
export function http_stream_chunk_hook(ptr: u32, len: u32): u64 {
  return sdk.streamChunkHook(ptr, len, onChunk);
}

function onPost(ctx: Context, resp: LLMResponse | null, err: LLMError | null): PostResult | null {
  // Streamed chunks are left to http_stream_chunk_hook, which sees them just before they are written.
  if (resp === null || err !== null || resp.isChunk()) return null;
  const text = resp.content();
  if (text === null || !blocked(text)) return null;
  ctx.set("content_filter.hits", ctx.get<i32>("content_filter.hits", 0) + 1);
  if (dropMode) return PostResult.fail(LLMError.create(400, "content_filter", "the answer contained blocked content", false));
  resp.setContent(mask(text));
  return PostResult.keep(resp);
}
export function post_hook(ptr: u32, len: u32): u64 {
  return sdk.postHook(ptr, len, onPost);
}
