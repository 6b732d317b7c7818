// Shared by the wasm host tests: WAT compiled at test time, temp files, a recording logger,
// and a config entry with defaults.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import wabtInit from 'wabt';

import type { PluginEntryConfig, PluginLoadOptions, PluginLogger } from '../../../packages/gateway/src/plugins/plugin.js';
import { loadWasmPlugin, type WasmPlugin } from '../../../packages/gateway/src/plugins/wasm/index.js';
import { RequestContext } from '../../../packages/gateway/src/schema/context.js';
import type { HttpRequestData } from '../../../packages/gateway/src/schema/http.js';
import type { LLMRequest } from '../../../packages/gateway/src/schema/request.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/wasm/', import.meta.url));
export const tmp = mkdtempSync(join(tmpdir(), 'gatehouse-wasm-'));

const wabt = await wabtInit();
export function wat(src: string): Uint8Array {
  const m = wabt.parseWat('fixture.wat', src, { bulk_memory: true });
  m.resolveNames();
  m.validate();
  return new Uint8Array(m.toBinary({}).buffer);
}

export interface Logged { level: string; obj: Record<string, unknown>; msg: string | undefined }
export function recordingLog(): PluginLogger & { lines: Logged[] } {
  const lines: Logged[] = [];
  const at = (level: string) => (obj: Record<string, unknown> | string, msg?: string) => {
    lines.push(typeof obj === 'string' ? { level, obj: {}, msg: obj } : { level, obj, msg });
  };
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

export function entry(path: string, over: Partial<PluginEntryConfig> = {}): PluginEntryConfig {
  return {
    name: over.name ?? 'test-plugin', enabled: true, path, config: {}, placement: 'pre_builtin', order: 0,
    on_error: 'fail_closed', limits: {}, isolation: 'inline', ...over,
  };
}

let n = 0;
/** Writes `bytes` to a temp file and loads it. */
export async function loadBytes(bytes: Uint8Array, over: Partial<PluginEntryConfig> = {}, log = recordingLog()): Promise<WasmPlugin> {
  const file = join(tmp, `m${n++}.wasm`);
  writeFileSync(file, bytes);
  return (await loadWasmPlugin(entry(file, over), opts(log))) as WasmPlugin;
}

export function opts(log: PluginLogger = recordingLog()): PluginLoadOptions {
  return { baseDir: FIXTURES, cacheDir: join(tmp, 'cache'), log };
}

export function httpReq(over: Partial<HttpRequestData> = {}): HttpRequestData {
  return {
    method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, query: {}, path_params: {},
    body: new TextEncoder().encode('{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}'), ...over,
  };
}

export function llmReq(over: Partial<LLMRequest> = {}): LLMRequest {
  return {
    request_type: 'chat_completion', provider: 'openai', model: 'gpt-4o', input: [{ role: 'user', content: 'hi' }],
    params: { temperature: 0.2 }, fallbacks: ['anthropic/claude-3-5-haiku'], ...over,
  };
}

export const ctx = (id = 'req-1'): RequestContext => new RequestContext(id);

/** A chat completion request body of about 1 KB, the benchmark's and the tests' typical input. */
export function kilobyteBody(): Uint8Array {
  const messages = Array.from({ length: 8 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `message ${i} `.repeat(9) }));
  return new TextEncoder().encode(JSON.stringify({ model: 'gpt-4o', messages, temperature: 0.7 }));
}
