/**
 * Plugin semantics that Bifrost's own plugins rely on (issue 12, items 1-5): a returned context is
 * merged, Go's all-null post_hook response is "no change", a short-circuit answer to a streaming
 * request is streamed whatever its shape, an entry without `enabled` is skipped with a warning,
 * and `config` may be any JSON value (none: `init` gets length 0).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import OpenAI from 'openai';

import { buildConfig } from '../../packages/gateway/src/index.js';
import { mockConfig, postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { bumpMalloc } from '../helpers/wat.js';
import { wat } from '../unit/wasm/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'gh-semantics-'));
let seq = 0;
function write(src: string | Uint8Array, ext: string): string {
  const f = join(dir, `p${++seq}${ext}`);
  writeFileSync(f, src);
  return f;
}

/** A module whose hooks each return a fixed JSON text. */
function constantHooks(outputs: Record<string, string>): string {
  let at = 1024;
  const parts: string[] = [];
  for (const [hook, out] of Object.entries(outputs)) {
    const len = Buffer.byteLength(out);
    parts.push(`(data (i32.const ${at}) ${JSON.stringify(out)})
    (func (export "${hook}") (param i32 i32) (result i64)
      (global.set $bump (i32.const 32768))
      (i64.or (i64.shl (i64.const ${at}) (i64.const 32)) (i64.const ${len})))`);
    at += len + 16;
  }
  return write(wat(`(module
    (memory (export "memory") 1)
    ${bumpMalloc(32768)}
    (func (export "free") (param i32))
    ${parts.join('\n    ')})`), '.wasm');
}

/** A native plugin that writes `values` in its http pre-hook and reports the context in a header. */
function reporter(values: Record<string, unknown>): string {
  return write(`
    export function httpTransportPreHook(ctx) { for (const [k, v] of Object.entries(${JSON.stringify(values)})) ctx.setValue(k, v); }
    export function httpTransportPostHook(ctx, req, resp) { if (resp) resp.headers['x-context'] = JSON.stringify(ctx.values); }`, '.mjs');
}

const gateways: TestGateway[] = [];
async function gateway(plugins: Record<string, unknown>[]): Promise<TestGateway> {
  const gw = await startTestGateway(mockConfig({ plugins }));
  gateways.push(gw);
  return gw;
}
const chat = (model = 'mock/hello') => ({ model, messages: [{ role: 'user', content: 'hi there' }] });

describe('plugin semantics (Bifrost compatibility)', () => {
  afterEach(async () => { while (gateways.length) await gateways.pop()!.close(500); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a returned context is merged: {} keeps everything, a key sets, null removes, reserved keys stay', async () => {
    const wasm = constantHooks({
      http_pre_hook: '{"context":{},"request":null,"response":null,"has_response":false,"error":""}',
      pre_hook: '{"context":{"from_wasm":"yes","drop_me":null,"request_id":"forged","gatehouse.x":1},"request":null,"short_circuit":null,"error":""}',
      post_hook: '{"context":{},"response":null,"error":null,"has_error":false,"hook_error":""}',
    });
    const gw = await gateway([
      { name: 'reporter', path: reporter({ kept: 'from native', drop_me: 1 }) },
      { name: 'bifrost-shape', path: wasm },
    ]);
    const r = await postJson(`${gw.baseURL}/chat/completions`, chat());
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.choices[0].message.content, 'Echo: hi there');
    const ctx = JSON.parse(r.headers.get('x-context') ?? '{}');
    assert.equal(ctx.kept, 'from native', 'a key the WASM plugin left out is kept');
    assert.equal(ctx.from_wasm, 'yes', 'a returned key is set');
    assert.ok(!('drop_me' in ctx), 'a key returned as null is removed');
    assert.equal(ctx.request_id, r.headers.get('x-request-id'), 'request_id is not overwritten');
    assert.ok(!('gatehouse.x' in ctx), 'reserved keys are not written');
  });

  test("post_hook: Go's all-null response with has_error false is no change, not a failure", async () => {
    const wasm = constantHooks({
      post_hook: '{"context":{},"response":{"ChatResponse":null,"TextCompletionResponse":null,"EmbeddingResponse":null,"ResponsesResponse":null},"error":null,"has_error":false,"hook_error":""}',
    });
    const gw = await gateway([{ name: 'tinygo-echo', path: wasm }]);
    const r = await postJson(`${gw.baseURL}/chat/completions`, chat());
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.choices[0].message.content, 'Echo: hi there');
    const s = await fetch(`${gw.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...chat(), stream: true }) });
    assert.equal(s.status, 200);
    assert.match(await s.text(), /"content":"Echo:/);
  });

  test('a short-circuit answer without "object", "id" or "created" reaches a streaming client as text', async () => {
    const answer = { choices: [{ message: { role: 'assistant', content: 'answered by the plugin' }, finish_reason: 'stop' }] };
    const wasm = constantHooks({
      pre_hook: JSON.stringify({ context: {}, request: null, short_circuit: { response: { chat_response: answer } }, has_short_circuit: true, error: '' }),
    });
    const gw = await gateway([{ name: 'answers', path: wasm }]);
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.chat.completions.create({ ...chat('mock/some-model'), stream: true } as never) as unknown as AsyncIterable<OpenAI.ChatCompletionChunk>;
    let text = '';
    const finish: Array<string | null> = [];
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(chunk.model, 'some-model');
      text += chunk.choices[0]?.delta.content ?? '';
      finish.push(chunk.choices[0]?.finish_reason ?? null);
    }
    assert.equal(text, 'answered by the plugin');
    assert.equal(finish.at(-1), 'stop');
    // Non-streaming, the same answer goes out as the plugin gave it.
    const r = await postJson(`${gw.baseURL}/chat/completions`, chat('mock/some-model'));
    assert.equal(r.json.choices[0].message.content, 'answered by the plugin');
  });

  test('an entry without "enabled" is skipped with a warning naming it; "enabled": true runs it', async () => {
    const native = write('export function preLLMHook() { return { shortCircuit: { error: { status_code: 403, error: { message: "ran" } } } }; }', '.mjs');
    const cfg = buildConfig(mockConfig({ plugins: [{ name: 'no-flag', path: native }, { name: 'on', enabled: true, path: native }] }));
    assert.equal(cfg.warnings.length, 1);
    assert.match(cfg.warnings[0]!, /plugins\[0\] \("no-flag"\) has no "enabled" key, so it is skipped.*add "enabled": true/);
    assert.deepEqual(cfg.plugins.map((p) => p.enabled), [undefined, true]);
    // Through the real start-up: the warning is logged and only the enabled entry runs.
    const { startGateway, createLogger } = await import('../../packages/gateway/src/index.js');
    const lines: string[] = [];
    const { Writable } = await import('node:stream');
    const log = createLogger({ level: 'info', destination: new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }) });
    const only = buildConfig(mockConfig({ plugins: [{ name: 'no-flag', path: native }] }));
    const running = await startGateway(only, { port: 0, host: '127.0.0.1', log });
    try {
      assert.equal(running.gateway.pipeline.entries.length, 0);
      assert.ok(lines.some((l) => /"level":"?(warn|40)"?/.test(l) && l.includes('no-flag')), lines.join(''));
      const r = await postJson(`${running.url}/v1/chat/completions`, chat());
      assert.equal(r.status, 200);
    } finally {
      await running.close(500);
    }
  });

  test('config may be any JSON value: a string or array reaches init as its JSON; none gives length 0', async () => {
    // init keeps a copy of what it was given; get_name returns that copy (nothing when it was empty).
    const file = write(wat(`(module
      (memory (export "memory") 1)
      ${bumpMalloc(32768)}
      (global $len (mut i32) (i32.const 0))
      (func (export "free") (param i32))
      (func (export "init") (param $p i32) (param $n i32) (result i32)
        (global.set $len (local.get $n))
        (memory.copy (i32.const 4096) (local.get $p) (local.get $n))
        (i32.const 0))
      (func (export "get_name") (result i64)
        (i64.or (i64.shl (i64.const 4096) (i64.const 32)) (i64.extend_i32_u (global.get $len)))))`), '.wasm');
    const { loadWasmPlugin } = await import('../../packages/gateway/src/plugins/wasm/index.js');
    const { entry, opts } = await import('../unit/wasm/helpers.js');
    const cases: Array<[unknown, string | null]> = [['hello', '"hello"'], [[1, 2], '[1,2]'], [{ a: 1 }, '{"a":1}'], [7, '7']];
    for (const [value, want] of cases) {
      const cfg = buildConfig(mockConfig({ plugins: [{ name: 'cfg', enabled: true, path: file, config: value }] }));
      assert.deepEqual(cfg.plugins[0]!.config, value);
      const plugin = await loadWasmPlugin(entry(file, { config: cfg.plugins[0]!.config }), opts()) as unknown as { reportedName: string | null; cleanup?: () => unknown };
      assert.equal(plugin.reportedName, want);
      await plugin.cleanup?.();
    }
    for (const raw of [{}, { config: null }]) {
      const cfg = buildConfig(mockConfig({ plugins: [{ name: 'cfg', enabled: true, path: file, ...raw }] }));
      assert.equal(cfg.plugins[0]!.config, undefined, 'no config is no value, not {}');
      const plugin = await loadWasmPlugin(entry(file, { config: cfg.plugins[0]!.config }), opts()) as unknown as { reportedName: string | null; cleanup?: () => unknown };
      assert.equal(plugin.reportedName, null, 'init got length 0');
      await plugin.cleanup?.();
    }
    // Through the gateway: a string config loads and the plugin runs.
    const gw = await gateway([{ name: 'cfg', path: file, config: 'a string' }]);
    assert.equal((await postJson(`${gw.baseURL}/chat/completions`, chat())).status, 200);
  });

  test('a call that grew memory past its cap fails under the policy, even when the guest returns normally', async () => {
    // 15 pages at start, a cap of 1 MiB (16 pages); pre_hook grows `pages` pages and returns "no change".
    const grower = (pages: number): string => write(wat(`(module
      (memory (export "memory") 15)
      ${bumpMalloc(32768)}
      (func (export "free") (param i32))
      (func (export "pre_hook") (param i32 i32) (result i64)
        (global.set $bump (i32.const 32768))
        (drop (memory.grow (i32.const ${pages})))
        (i64.const 0)))`), '.wasm');
    const atCap = await gateway([{ name: 'grower', path: grower(1), limits: { memory_mb: 1 } }]);
    assert.equal((await postJson(`${atCap.baseURL}/chat/completions`, chat())).status, 200, 'growing up to the cap is fine');
    const past = grower(2);
    const closed = await gateway([{ name: 'grower', path: past, limits: { memory_mb: 1 } }]);
    const r = await postJson(`${closed.baseURL}/chat/completions`, chat());
    assert.equal(r.status, 500, r.text);
    assert.match(r.json.error.message, /plugin "grower" failed in preLLMHook: .*memory\.grow past the limit of 1 MiB \(limits\.memory_mb\)/);
    const open = await gateway([{ name: 'grower', path: past, limits: { memory_mb: 1 }, on_error: 'fail_open' }]);
    for (let i = 0; i < 3; i++) assert.equal((await postJson(`${open.baseURL}/chat/completions`, chat())).status, 200);
    assert.ok(open.logs.some((l) => JSON.stringify(l).includes('memory.grow past the limit')), 'the failure is logged');
  });
});
