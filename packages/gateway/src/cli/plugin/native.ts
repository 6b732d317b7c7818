/**
 * The conformance check for a native (TypeScript/JavaScript) plugin: loaded through the gateway's
 * native host, every hook it has is called with the sample request, and must not throw (a
 * PluginRejection is an answer, not a failure), must return what the contract allows, and must
 * leave the values already in the context in place.
 */
import { basename, dirname, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { loadNativePlugin } from '../../plugins/native/load.js';
import { PluginRejection, type Plugin, type PluginLogger } from '../../plugins/plugin.js';
import { RequestContext } from '../../schema/context.js';
import type { HttpRequestData, HttpResponseData } from '../../schema/http.js';
import type { LLMRequest } from '../../schema/request.js';
import type { LLMResponse } from '../../schema/response.js';
import type { Check } from './conformance.js';
import { SAMPLES } from './samples.js';
import { dim, duration, FAIL, out, PASS, WARN } from './term.js';

const PROBE_KEY = 'conformance.probe';
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function nativeConformance(file: string, config: Record<string, unknown> = {}): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (status: Check['status'], what: string, detail?: string): void => {
    checks.push({ status, what, detail });
    out(`${status === 'pass' ? PASS() : status === 'warn' ? WARN() : FAIL()} ${what}`);
    if (detail) for (const l of detail.split('\n')) out(`     ${dim(l)}`);
  };
  const quiet = (): void => {};
  const log: PluginLogger = { info: quiet, debug: quiet, warn: quiet, error: quiet };
  const path = resolve(file);
  let plugin: Plugin;
  const t0 = performance.now();
  try {
    plugin = await loadNativePlugin(
      { name: basename(path).replace(/\.[cm]?[jt]s$/, ''), enabled: true, path, config, placement: 'pre_builtin', order: 0, on_error: 'fail_closed', limits: {}, isolation: 'inline' },
      { baseDir: dirname(path), cacheDir: resolve(tmpdir(), 'gatehouse-plugin-cli'), log },
    );
  } catch (e) {
    add('fail', 'the module loads as a native plugin', (e as Error).message);
    return checks;
  }
  const hooks = (['httpTransportPreHook', 'preLLMHook', 'postLLMHook', 'httpTransportStreamChunkHook', 'httpTransportPostHook'] as const).filter((h) => typeof plugin[h] === 'function');
  add('pass', `loads in ${duration(performance.now() - t0)} (hooks: ${hooks.join(', ') || 'none'})`);

  const s = SAMPLES as Record<string, { request?: Record<string, unknown>; response?: Record<string, unknown>; chunk?: Record<string, unknown> }>;
  const httpReq = (): HttpRequestData => {
    const r = s.http_pre_hook!.request!;
    return { ...(structuredClone(r) as unknown as HttpRequestData), body: new Uint8Array(Buffer.from(r.body as string, 'base64')) };
  };
  const llm = s.pre_hook!.request!;
  const ctx = new RequestContext('conformance-0001');
  const token = `probe-${Math.random().toString(36).slice(2)}`;
  ctx.setValue(PROBE_KEY, token);

  type Call = [string, () => unknown, (r: unknown) => string | null];
  const calls: Call[] = [
    ['httpTransportPreHook', () => plugin.httpTransportPreHook!(ctx, httpReq()),
      (r) => (r == null || (isObj(r) && typeof r.status_code === 'number') ? null : 'must return nothing or an HTTP response {status_code, headers, body}')],
    ['preLLMHook', () => plugin.preLLMHook!(ctx, { ...(structuredClone(llm) as unknown as LLMRequest), fallbacks: ['openai/gpt-4o-mini'] }),
      (r) => (r == null || (isObj(r) && ('request' in r || 'shortCircuit' in r)) ? null : 'must return nothing, { request } or { shortCircuit }')],
    ['postLLMHook', () => plugin.postLLMHook!(ctx, structuredClone(SAMPLES.post_hook!.response) as LLMResponse, null),
      (r) => (r == null || (isObj(r) && ('response' in r || 'error' in r)) ? null : 'must return nothing or { response, error }')],
    ['httpTransportStreamChunkHook', () => plugin.httpTransportStreamChunkHook!(ctx, httpReq(), structuredClone(s.http_stream_chunk_hook!.chunk!)),
      (r) => (r === null || isObj(r) ? null : 'must return the chunk (an object) or null to drop it')],
    ['httpTransportPostHook', () => {
      const resp = s.http_post_hook!.response!;
      const data: HttpResponseData = { status_code: 200, headers: { ...(resp.headers as Record<string, string>) }, body: new Uint8Array(Buffer.from(resp.body as string, 'base64')) };
      return plugin.httpTransportPostHook!(ctx, httpReq(), data);
    }, () => null],
  ];
  for (const [hook, call, check] of calls) {
    if (typeof plugin[hook as keyof Plugin] !== 'function') continue;
    const t = performance.now();
    try {
      const r = await call();
      const bad = check(r);
      if (bad) add('fail', `${hook}: ${bad}`);
      else add('pass', `${hook}: returns what the contract allows ${dim(duration(performance.now() - t))}`);
    } catch (e) {
      if (e instanceof PluginRejection) add('pass', `${hook}: rejects the sample on purpose (${e.message})`);
      else add('fail', `${hook}: throws`, (e as Error).stack ?? String(e));
    }
  }
  if (hooks.length > 0) {
    if (ctx.value(PROBE_KEY) === token) add('pass', 'context values survive every hook of a request');
    else add('fail', 'context values survive every hook of a request', `"${PROBE_KEY}" was ${ctx.value(PROBE_KEY) === undefined ? 'removed' : 'changed'}`);
  }
  await plugin.cleanup?.();
  return checks;
}
