// content-filter-wasm: blocked words in the model's answer. Streaming: http_stream_chunk_hook drops
// a chunk that contains one (mode "drop") or masks the word (mode "mask"; a word split across
// chunks is masked too, by holding back the end of each chunk's text until the next one). Not
// streaming: post_hook masks the words in the answer (mode "mask") or replaces the answer with a
// 400 content_filter error (mode "drop").
import * as sdk from "@gatehouse/plugin-sdk";
import { Config, Context, HttpRequest, LLMError, LLMResponse, PostResult, StreamChunk } from "@gatehouse/plugin-sdk";
import { malloc, free } from "@gatehouse/plugin-sdk";
export { malloc, free };

let words: string[] = [];
let lowered: string[] = [];
/** The longest blocked word: a chunk's last `longest - 1` characters wait for the next chunk. */
let longest = 0;
const HELD = "content_filter.held";
let dropMode = false;
let maskChar = "*";

export function get_name(): u64 {
  return sdk.name("content-filter-wasm");
}

function onInit(cfg: Config): bool {
  words = cfg.getStrings("words");
  lowered = new Array<string>(0);
  longest = 0;
  for (let i = 0; i < words.length; i++) {
    if (words[i].length == 0) continue;
    lowered.push(words[i].toLowerCase());
    if (words[i].length > longest) longest = words[i].length;
  }
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
  if (dropMode) {
    if (text === null || !blocked(text)) return chunk;
    ctx.set("content_filter.hits", ctx.get<i32>("content_filter.hits", 0) + 1);
    return null;
  }
  // Mask mode. A word may arrive split across two chunks ("sec" + "ret"), and then neither part
  // matches: the end of each chunk's text (one character less than the longest word) is held back
  // in the context and sent at the front of the next chunk, the one that finishes the stream
  // taking whatever is left. The text is the same, only cut at other places.
  const held = ctx.getString(HELD);
  const last = chunk.finishReason() !== null;
  if (text === null && (held.length == 0 || !last)) return chunk;
  let all = held + (text === null ? "" : text);
  if (blocked(all)) {
    ctx.set("content_filter.hits", ctx.get<i32>("content_filter.hits", 0) + 1);
    all = mask(all);
  }
  const keep = last ? 0 : min(longest - 1, all.length);
  if (!chunk.setContent(all.slice(0, all.length - keep))) return chunk; // no delta: nothing to hold
  ctx.set<string>(HELD, all.slice(all.length - keep));
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
