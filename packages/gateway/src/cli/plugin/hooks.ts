/**
 * The hooks as the tools see them: order, which output check belongs to each, and a raw call
 * that times the hook and reads memory around it.
 */
import type { WasmPlugin } from '../../plugins/wasm/index.js';
import * as S from '../../plugins/wasm/shapes.js';

/** Lifecycle order of one request (contract 1), v1.3's http_intercept in http_pre_hook's place. */
export const LIFECYCLE = ['http_pre_hook', 'http_intercept', 'pre_hook', 'post_hook', 'http_stream_chunk_hook', 'http_post_hook'] as const;

/** The host's own output check for each hook: throws a ShapeError naming what is wrong. */
export const CHECK: Record<string, (text: string | null) => unknown> = {
  http_pre_hook: S.parseHttpPre,
  http_intercept: S.parseHttpPre,
  http_post_hook: S.parseHttpPost,
  http_stream_chunk_hook: S.parseStreamChunk,
  pre_hook: S.parsePreLLM,
  post_hook: S.parsePostLLM,
};

export interface CallResult {
  output: string | null;
  ms: number;
  memoryBefore: number | null;
  memoryAfter: number | null;
  /** A trap, a bad pointer, ...: the host's one-line reason. */
  failure: string | null;
  /** Output that is not valid JSON of the hook's shape. */
  shapeError: string | null;
}

export async function callHook(plugin: WasmPlugin, hook: string, input: string): Promise<CallResult> {
  const memoryBefore = plugin.raw.memoryBytes();
  const t0 = performance.now();
  let output: string | null = null;
  let failure: string | null = null;
  try {
    output = await plugin.raw.call(hook, input);
  } catch (e) {
    failure = e instanceof Error ? e.message : String(e);
  }
  const ms = performance.now() - t0;
  let shapeError: string | null = null;
  if (failure === null) {
    try {
      CHECK[hook]?.(output);
    } catch (e) {
      shapeError = (e as Error).message;
    }
  }
  return { output, ms, memoryBefore, memoryAfter: plugin.raw.memoryBytes(), failure, shapeError };
}
