// Gatehouse benchmark plugin (AssemblyScript + json-as): implements every hook of the WASM plugin
// contract (section 3) and does the least work a real plugin does: it parses its JSON input, reads
// one field, and answers "no change" (a packed 0), so the host's serialisation and the guest's parse
// are measured, not plugin logic. With config {"echo": true} the stream chunk hook returns the chunk
// it was given (has_chunk), so the host also has to parse the plugin's output.
// Build: npx asc every-hook.ts --transform json-as -O3 --runtime incremental -o every-hook.wasm
import { JSON } from "json-as";

export function malloc(size: u32): u32 {
  return <u32>heap.alloc(<usize>(size == 0 ? 1 : size));
}
export function free(ptr: u32, size: u32): void {
  heap.free(<usize>ptr);
}
function pack(p: usize, n: usize): u64 {
  return ((<u64>p) << 32) | (<u64>n & 0xffffffff);
}
function out(s: string): u64 {
  const b = String.UTF8.encode(s);
  const n = <usize>b.byteLength;
  const p = heap.alloc(n == 0 ? 1 : n);
  memory.copy(p, changetype<usize>(b), n);
  return pack(p, n);
}
function input(ptr: u32, len: u32): JSON.Obj {
  return JSON.parse<JSON.Obj>(String.UTF8.decodeUnsafe(<usize>ptr, <usize>len));
}

let echo: bool = false;
let seen: i64 = 0;

export function get_name(): u64 {
  return out("bench-every-hook");
}

export function init(ptr: u32, len: u32): i32 {
  const cfg = input(ptr, len);
  if (cfg.has("echo")) echo = cfg.getAs<bool>("echo");
  return 0;
}

export function http_pre_hook(ptr: u32, len: u32): u64 {
  const o = input(ptr, len);
  if (o.has("request")) seen++;
  return 0;
}

export function http_post_hook(ptr: u32, len: u32): u64 {
  const o = input(ptr, len);
  if (o.has("response")) seen++;
  return 0;
}

export function http_stream_chunk_hook(ptr: u32, len: u32): u64 {
  const o = input(ptr, len);
  if (!echo) {
    if (o.has("chunk")) seen++;
    return 0;
  }
  const res = new JSON.Obj();
  res.set<JSON.Obj>("chunk", o.getAs<JSON.Obj>("chunk"));
  res.set<bool>("has_chunk", true);
  res.set<bool>("skip", false);
  res.set<string>("error", "");
  return out(JSON.stringify(res));
}

export function pre_hook(ptr: u32, len: u32): u64 {
  const o = input(ptr, len);
  if (o.has("request")) seen++;
  return 0;
}

export function post_hook(ptr: u32, len: u32): u64 {
  const o = input(ptr, len);
  if (o.has("response")) seen++;
  return 0;
}

export function cleanup(): i32 {
  seen = 0;
  return 0;
}
