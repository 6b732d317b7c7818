// @gatehouse/plugin-sdk: write a Gatehouse WASM plugin in AssemblyScript as a few typed hook
// functions. A plugin's entry file re-exports the allocator and wraps each handler:
//
//   import * as sdk from "@gatehouse/plugin-sdk";
//   export { malloc, free } from "@gatehouse/plugin-sdk";
//   export function pre_hook(ptr: u32, len: u32): u64 { return sdk.preHook(ptr, len, onPre); }
//
// Build with: asc assembly/plugin.ts --transform json-as -O3 -o build/plugin.wasm
export { malloc, free, name, pack, readInput, writeOutput } from "./assembly/abi";
export { fail, init, httpPreHook, httpPostHook, streamChunkHook, preHook, postHook } from "./assembly/hooks";
export { Config, Context, JsonMap, read, valueAs, numberOf, objAt, arrayAt, objIn, quote } from "./assembly/values";
export { StrMap, HttpRequest, HttpResponse } from "./assembly/http";
export {
  Fallback, LLMRequest, contentText, ChatMessage, ChatChoice, Usage, ChatResponse, LLMResponse,
  ErrorField, LLMError, ShortCircuit, shortCircuit, PostResult, StreamChunk,
} from "./assembly/llm";
export { nowMs, monotonicMs, log, logError } from "./assembly/wasi";
export { base64 } from "./assembly/base64";
