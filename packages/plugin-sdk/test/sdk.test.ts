// The SDK under the gateway's WASM host: one test plugin (test/fixture/plugin.ts) built with the
// SDK once, then every hook called through loadWasmPlugin, and the raw ABI called by a minimal
// host written here from the contract alone (so the SDK does not only fit Gatehouse's host).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import type { PluginEntryConfig, PluginLogger } from '../../gateway/src/plugins/plugin.js';
import { loadWasmPlugin, type WasmPlugin } from '../../gateway/src/plugins/wasm/index.js';
import { RequestContext } from '../../gateway/src/schema/context.js';
import type { HttpRequestData, HttpResponseData } from '../../gateway/src/schema/http.js';
import type { LLMRequest } from '../../gateway/src/schema/request.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '../../..');
const out = join(mkdtempSync(join(tmpdir(), 'gatehouse-sdk-')), 'sdk-test.wasm');
const enc = new TextEncoder();
const dec = new TextDecoder();

interface Line { level: string; obj: unknown; msg: unknown }
function recordingLog(): PluginLogger & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (obj: unknown, msg?: unknown) => { lines.push({ level, obj, msg }); };
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } as PluginLogger & { lines: Line[] };
}

function entry(config: Record<string, unknown> = {}): PluginEntryConfig {
  return { name: 'sdk-test', enabled: true, path: out, config, placement: 'pre_builtin', order: 0, on_error: 'fail_closed', limits: {}, isolation: 'inline' } as PluginEntryConfig;
}

const loaded: WasmPlugin[] = [];
async function load(config: Record<string, unknown> = { tag: 'T', words: ['secret'] }, log = recordingLog()): Promise<WasmPlugin> {
  const p = (await loadWasmPlugin(entry(config), { baseDir: root, cacheDir: join(tmpdir(), 'gatehouse-sdk-cache'), log })) as WasmPlugin;
  loaded.push(p);
  return p;
}

function httpReq(over: Partial<HttpRequestData> = {}): HttpRequestData {
  return {
    method: 'POST', path: '/v1/chat/completions', headers: { 'Content-Type': 'application/json', 'X-Api-Key': 'k-1', 'X-Drop-Me': 'x' },
    query: {}, path_params: {}, body: enc.encode('{"model":"gpt-4o","messages":[{"role":"user","content":"héllo"}]}'), ...over,
  };
}

function llmReq(over: Partial<LLMRequest> = {}): LLMRequest {
  return {
    request_type: 'chat_completion', provider: 'openai', model: 'gpt-4o',
    input: [{ role: 'system', content: 'be brief' }, { role: 'user', content: [{ type: 'text', text: 'part one, ' }, { type: 'text', text: 'part two' }] }],
    params: { temperature: 0.2 }, fallbacks: ['anthropic/claude-3-5-haiku'], ...over,
  } as LLMRequest;
}

before(() => {
  execFileSync(join(root, 'node_modules/.bin/asc'), [join(here, 'fixture/plugin.ts'), '--transform', 'json-as', '-O3', '-o', out], { cwd: root, stdio: 'pipe' });
});
after(async () => { for (const p of loaded) await p.cleanup!(); });

describe('plugin-sdk under the gateway host', () => {
  test('get_name, init config, every hook exported', async () => {
    const p = await load();
    assert.equal(p.reportedName, 'sdk-test');
    for (const m of ['httpTransportPreHook', 'httpTransportPostHook', 'httpTransportStreamChunkHook', 'preLLMHook', 'postLLMHook']) {
      assert.equal(typeof (p as unknown as Record<string, unknown>)[m], 'function', m);
    }
  });

  test('init returning false fails the load, with the plugin\'s stderr line in the error', async () => {
    await assert.rejects(load({ refuse: true }), /refusing config/);
  });

  test('http_pre_hook: context, case-insensitive header, header set/remove, query, body rewrite', async () => {
    const p = await load();
    const c = new RequestContext('r-1');
    c.setValue('sdk_count', 41);
    const req = httpReq({ headers: { 'content-type': 'application/json', 'X-Api-Key': 'k-1', 'X-Drop-Me': 'x', 'x-rewrite': '1', 'x-sdk-seen': 'old' }, query: { q: 'a', keep: 'b' } });
    assert.equal(await p.httpTransportPreHook!(c, req), undefined);
    assert.equal(c.values.sdk_http_pre, 'T');
    assert.equal(c.values.sdk_count, 42, 'a number from an earlier hook is read back and incremented');
    assert.equal(c.values.sdk_key, 'k-1', 'X-Api-Key found case-insensitively');
    assert.equal(c.values.request_id, 'r-1');
    assert.equal(req.headers['X-Sdk-Seen'], 'T');
    assert.equal(req.headers['x-sdk-seen'], undefined, 'the other case variant is replaced');
    assert.equal(req.headers['X-Drop-Me'], undefined, 'removed');
    assert.equal(req.headers['content-type'], 'application/json', 'untouched header kept');
    assert.deepEqual(req.query, { q: 'changed', keep: 'b' });
    assert.deepEqual(JSON.parse(dec.decode(req.body!)), { model: 'rewritten', messages: [{ role: 'user', content: 'héllo' }] }, 'UTF-8 body through base64 both ways');
  });

  test('http_pre_hook: a returned HttpResponse short-circuits; sdk.fail() becomes the hook error', async () => {
    const p = await load();
    const res = await p.httpTransportPreHook!(new RequestContext('r'), httpReq({ headers: { 'x-answer': '1' } }));
    assert.ok(res);
    assert.equal(res.status_code, 418);
    assert.equal(res.headers['x-sdk'], 'short');
    assert.equal(res.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(dec.decode(res.body!)), { teapot: true });
    await assert.rejects(async () => p.httpTransportPreHook!(new RequestContext('r'), httpReq({ headers: { 'x-fail': '1' } })), /asked to fail/);
  });

  test('pre_hook: typed request, last user message from content parts, rename + params, short-circuits', async () => {
    const p = await load();
    const c = new RequestContext('r');
    assert.equal(await p.preLLMHook!(c, llmReq()), undefined, 'only read: the request is not sent back');
    assert.equal(c.values.sdk_pre, 'openai/gpt-4o');
    assert.equal(c.values.sdk_last, 'part one, part two');

    const renamed = await p.preLLMHook!(c, llmReq({ model: 'rename' }));
    assert.ok(renamed && 'request' in renamed && renamed.request);
    assert.equal(renamed.request.model, 'renamed');
    assert.deepEqual(renamed.request.params, { temperature: 0.5 });
    assert.deepEqual(renamed.request.fallbacks, ['anthropic/claude-3-5-haiku'], 'fallbacks round-trip');
    assert.deepEqual(renamed.request.input, llmReq().input, 'input round-trips');

    const mock = await p.preLLMHook!(c, llmReq({ model: 'mock-model' }));
    assert.ok(mock && 'shortCircuit' in mock && mock.shortCircuit?.response);
    const chat = mock.shortCircuit.response.chat_response as { object: string; model: string; choices: Array<{ message: { role: string; content: string }; finish_reason: string }> };
    assert.equal(chat.object, 'chat.completion');
    assert.equal(chat.model, 'mock-model');
    assert.deepEqual(chat.choices[0], { index: 0, message: { role: 'assistant', content: 'mocked: part one, part two' }, finish_reason: 'stop' });

    const limited = await p.preLLMHook!(c, llmReq({ model: 'limited' }));
    assert.ok(limited && 'shortCircuit' in limited);
    assert.deepEqual(limited.shortCircuit!.error, { status_code: 429, error: { message: 'too many requests', type: 'rate_limit', code: '429' }, allow_fallbacks: false });
    const soft = await p.preLLMHook!(c, llmReq({ model: 'fallback-ok' }));
    assert.ok(soft && 'shortCircuit' in soft);
    assert.equal(soft.shortCircuit!.error!.allow_fallbacks, true);
  });

  test('pre_hook: sdk.fail() is logged and does not block', async () => {
    const log = recordingLog();
    const p = await load(undefined, log);
    assert.equal(await p.preLLMHook!(new RequestContext('r'), llmReq({ model: 'error-only' })), undefined);
    assert.ok(log.lines.some((l) => JSON.stringify(l.obj).includes('logged, not blocking')));
  });

  test('post_hook: pass-through, recovery from an error, failing a response, changing its text', async () => {
    const p = await load();
    const c = new RequestContext('r');
    const resp = { chat_response: { id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'fine' }, finish_reason: 'stop' }] } };
    assert.equal(await p.postLLMHook!(c, resp as never, null), undefined, 'null from the handler: unchanged');
    assert.equal(c.values.sdk_post, 'response');

    const rec = await p.postLLMHook!(c, null, { status_code: 502, error: { message: 'please recover', type: 'api_error' } } as never);
    assert.ok(rec);
    assert.equal(rec.error, null);
    assert.equal((rec.response!.chat_response as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content, 'recovered from api_error');
    assert.equal(c.values.sdk_post, 'error 502');

    const bad = structuredClone(resp);
    bad.chat_response.choices[0]!.message.content = 'a forbidden thing';
    const failed = await p.postLLMHook!(c, bad as never, null);
    assert.ok(failed?.error);
    assert.equal(failed.error.status_code, 400);
    assert.equal(failed.error.allow_fallbacks, false);

    const loud = structuredClone(resp);
    loud.chat_response.choices[0]!.message.content = 'shout this';
    const changed = await p.postLLMHook!(c, loud as never, null);
    assert.ok(changed?.response);
    assert.equal(changed.error, null);
    assert.deepEqual(changed.response, { chat_response: { ...loud.chat_response, choices: [{ index: 0, message: { role: 'assistant', content: 'SHOUT THIS' }, finish_reason: 'stop' }] } }, 'other fields kept');
  });

  test('http_stream_chunk_hook: chunk changed in place, dropped, or passed when it has no content', async () => {
    const p = await load();
    const c = new RequestContext('r');
    const req = httpReq();
    const chunk = (content: string | null) => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: null }] });
    assert.deepEqual(await p.httpTransportStreamChunkHook!(c, req, chunk('abc')), chunk('ABC'));
    assert.equal(await p.httpTransportStreamChunkHook!(c, req, chunk('a secret word')), null);
    assert.deepEqual(await p.httpTransportStreamChunkHook!(c, req, chunk(null)), chunk(null));
    assert.equal(c.values.sdk_chunks, 3);
  });

  test('http_post_hook: header from pre_hook context, status and body changes, null response after a stream', async () => {
    const p = await load();
    const c = new RequestContext('r');
    c.setValue('sdk_pre', 'openai/gpt-4o');
    const resp: HttpResponseData = { status_code: 200, headers: { 'content-type': 'application/json' }, body: enc.encode('ok') };
    await p.httpTransportPostHook!(c, httpReq({ headers: { 'x-status': '1', 'x-body': '1' } }), resp);
    assert.equal(resp.headers['x-sdk-pre'], 'openai/gpt-4o');
    assert.equal(resp.status_code, 201);
    assert.equal(dec.decode(resp.body!), 'ok+sdk');
    const plain: HttpResponseData = { status_code: 200, headers: {}, body: enc.encode('ok') };
    await p.httpTransportPostHook!(c, httpReq(), plain);
    assert.equal(plain.status_code, 200);
    assert.equal(dec.decode(plain.body!), 'ok');
    await p.httpTransportPostHook!(c, httpReq(), null);
    assert.equal(c.values.sdk_http_post, true);
  });
});

describe('plugin-sdk under a minimal host written from the contract', () => {
  // Only what contract section 3 says: malloc, write, call, unpack, read, free. WASI: clock + fd_write.
  let x: WebAssembly.Exports;
  const mem = () => new Uint8Array((x.memory as WebAssembly.Memory).buffer);
  const call = (fn: string, input: string): string | null => {
    const bytes = enc.encode(input);
    const ptr = (x.malloc as (n: number) => number)(bytes.length) >>> 0;
    mem().set(bytes, ptr);
    const r = BigInt.asUintN(64, (x[fn] as (p: number, l: number) => bigint)(ptr, bytes.length));
    (x.free as (p: number) => void)(ptr);
    if (r === 0n) return null;
    const outPtr = Number(r >> 32n);
    const outLen = Number(r & 0xffffffffn);
    const text = dec.decode(mem().slice(outPtr, outPtr + outLen));
    (x.free as (p: number) => void)(outPtr);
    return text;
  };
  before(async () => {
    const view = () => new DataView((x.memory as WebAssembly.Memory).buffer);
    const { instance } = await WebAssembly.instantiate(readFileSync(out), {
      env: { abort: () => { throw new Error('abort'); } },
      wasi_snapshot_preview1: {
        clock_time_get: (_id: number, _p: bigint, at: number) => { view().setBigUint64(at, BigInt(Date.now()) * 1_000_000n, true); return 0; },
        fd_write: () => 0,
      },
    });
    x = instance.exports;
  });

  test('the documented output shapes, field by field', () => {
    const ctx = { request_id: 'q' };
    const pre = JSON.parse(call('pre_hook', JSON.stringify({ context: ctx, request: { request_type: 'chat_completion', provider: 'p', model: 'limited', input: [], params: {}, fallbacks: [] } }))!);
    assert.deepEqual(Object.keys(pre), ['context', 'request', 'short_circuit', 'has_short_circuit', 'error']);
    assert.equal(pre.has_short_circuit, true);
    assert.equal(pre.request, null);
    assert.equal(pre.error, '');
    const post = JSON.parse(call('post_hook', JSON.stringify({ context: ctx, response: null, error: {}, has_error: false }))!);
    assert.deepEqual(post, { context: { request_id: 'q', sdk_post: 'response' }, response: null, error: {}, has_error: false, hook_error: '' });
    // ctx.remove sends null, which the gateway's merge turns into a removal.
    const removed = JSON.parse(call('post_hook', JSON.stringify({ context: { ...ctx, sdk_drop: 1 }, response: null, error: {}, has_error: false }))!);
    assert.deepEqual(removed.context, { request_id: 'q', sdk_drop: null, sdk_post: 'response' });
    const merged = new RequestContext('q');
    merged.setValue('sdk_drop', 1);
    merged.merge(removed.context);
    assert.deepEqual({ ...merged.values }, { request_id: 'q', sdk_post: 'response' });
    const chunk = JSON.parse(call('http_stream_chunk_hook', JSON.stringify({ context: ctx, request: { method: 'POST', path: '/', headers: {}, query: {}, path_params: {}, body: null }, chunk: { choices: [{ delta: { content: 'x' } }] } }))!);
    assert.deepEqual(Object.keys(chunk), ['context', 'chunk', 'has_chunk', 'skip', 'error']);
    assert.deepEqual(chunk.chunk, { choices: [{ delta: { content: 'X' } }] });
    const http = JSON.parse(call('http_pre_hook', JSON.stringify({ context: ctx, request: { method: 'GET', path: '/', headers: { 'x-answer': '1' }, query: {}, path_params: {}, body: null } }))!);
    assert.deepEqual(Object.keys(http), ['context', 'request', 'response', 'has_response', 'error']);
    assert.equal(http.has_response, true);
    assert.equal(Buffer.from(http.response.body, 'base64').toString(), '{"teapot":true}');
  });

  test('base64 matches Node for every length mod 3 and non-ASCII text; the WASI clock is read', () => {
    for (const s of ['', 'a', 'ab', 'abc', 'héllo wörld ✓', 'x'.repeat(1000)]) {
      const [b64, back, clock] = call('b64_roundtrip', s)?.split('|') ?? [];
      assert.equal(b64, Buffer.from(s).toString('base64'), s);
      assert.equal(back, s);
      assert.equal(clock, 'clock-ok');
    }
  });

  test('10,000 hook calls keep memory flat (default incremental runtime, host frees every block)', () => {
    const input = JSON.stringify({ context: { request_id: 'q' }, request: { request_type: 'chat_completion', provider: 'p', model: 'm', input: [{ role: 'user', content: 'hi '.repeat(300) }], params: {}, fallbacks: [] } });
    for (let i = 0; i < 500; i++) call('pre_hook', input);
    const warm = (x.memory as WebAssembly.Memory).buffer.byteLength;
    for (let i = 0; i < 10_000; i++) call('pre_hook', input);
    assert.ok((x.memory as WebAssembly.Memory).buffer.byteLength <= warm + 65536 * 4, `memory grew from ${warm} to ${(x.memory as WebAssembly.Memory).buffer.byteLength}`);
  });
});
