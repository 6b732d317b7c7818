/**
 * WASM plugins end to end: the fixture plugins and hostile modules loaded by a real gateway from
 * its config, driven over HTTP with the openai SDK and raw fetch. Every hook's effect is visible to
 * the client; a failing plugin gets its on_error policy and the next request works again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import OpenAI from 'openai';

import { mockConfig, postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startOpenAIUpstream } from '../mocks/openai-upstream.js';
import { wat } from '../unit/wasm/helpers.js';
import { bumpMalloc } from '../helpers/wat.js';

const FIXTURES = new URL('../fixtures/wasm/', import.meta.url).pathname;
const AS = join(FIXTURES, 'as-hello/as-hello-stub.wasm');
const RUST = join(FIXTURES, 'rust-hello/rust-hello.wasm');
const dir = mkdtempSync(join(tmpdir(), 'gh-wasm-e2e-'));

/** http_pre_hook traps when its input contains a '~' (put one in a header); otherwise no change. */
const TILDE_TRAP = `(module
  (memory (export "memory") 1)
  ${bumpMalloc(1024)}
  (func (export "http_pre_hook") (param $p i32) (param $n i32) (result i64) (local $i i32)
    (global.set $bump (i32.const 1024))
    (block $done (loop $scan
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (if (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 126)) (then unreachable))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $scan)))
    (i64.const 0)))`;

/** pre_hook spins forever when the input contains a '~'. */
const TILDE_SPIN = TILDE_TRAP.replace('(export "http_pre_hook")', '(export "pre_hook")').replace('(then unreachable)', '(then (loop $l (br $l)))');

function wasmFile(name: string, src: string): string {
  const file = join(dir, `${name}.wasm`);
  writeFileSync(file, wat(src));
  return file;
}

const gateways: TestGateway[] = [];
async function gateway(plugins: Record<string, unknown>[], extra: Record<string, unknown> = {}): Promise<{ gw: TestGateway; client: OpenAI }> {
  const gw = await startTestGateway(mockConfig({ plugins, ...extra }));
  gateways.push(gw);
  return { gw, client: new OpenAI({ baseURL: gw.baseURL, apiKey: 'unused', maxRetries: 0 }) };
}
const chat = (content: string, model = 'mock/mock-model') => ({ model, messages: [{ role: 'user' as const, content }] });

describe('wasm plugins through the gateway', () => {
  afterEach(async () => { while (gateways.length) await gateways.pop()!.close(500); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('AssemblyScript: context set in http_pre_hook/pre_hook is seen in http_post_hook (response header)', async () => {
    const { gw } = await gateway([{ name: 'as', path: AS, config: { greeting: 'hi' } }]);
    const res = await postJson(`${gw.baseURL}/chat/completions`, chat('hello'));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.choices[0].message.content, 'Echo: hello');
    assert.equal(res.headers.get('x-as-post'), 'saw-pre');
  });

  test('AssemblyScript: short-circuit with a response (pre_hook) and with an HTTP response (http_pre_hook)', async () => {
    const { gw, client } = await gateway([{ name: 'as', path: AS }]);
    const res = await client.chat.completions.create(chat('x', 'mock/as-magic'));
    assert.equal(res.choices[0]?.message.content, 'from the AssemblyScript plugin');
    const raw = await postJson(`${gw.baseURL}/chat/completions`, chat('x'), { 'x-short-circuit': '1' });
    assert.equal(raw.status, 418);
    assert.equal(raw.text, 'short circuited');
  });

  test('AssemblyScript: short-circuit with an error and allow_fallbacks:false; fallbacks are not tried', async () => {
    const { client } = await gateway([{ name: 'as', path: AS }]);
    await assert.rejects(
      client.chat.completions.create({ ...chat('x', 'mock/as-block'), fallbacks: ['mock/other'] } as never),
      (err: unknown) => err instanceof OpenAI.RateLimitError && /blocked by as-hello/.test(err.message),
    );
  });

  test('AssemblyScript: post_hook recovers a provider error', async () => {
    const upstream = await startOpenAIUpstream();
    try {
      const providers = { up: { custom_provider_config: { base_provider_type: 'openai' }, keys: [{ value: 'k' }], network_config: { base_url: upstream.url } } };
      const { client } = await gateway([{ name: 'as', path: AS }], { providers });
      upstream.enqueue({ status: 500, message: 'please recover from this' });
      const res = await client.chat.completions.create(chat('x', 'up/gpt-4o-mini'));
      assert.equal(res.choices[0]?.message.content, 'recovered by as-hello');
    } finally {
      await upstream.close();
    }
  });

  test('AssemblyScript: stream chunks are modified and a chunk is dropped', async () => {
    const { gw } = await gateway([{ name: 'as', path: AS, config: { greeting: 'streamed' } }]);
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...chat('keep DROPME this'), stream: true }),
    });
    const text = await res.text();
    const events = text.split('\n').filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]').map((l) => JSON.parse(l.slice(6)));
    assert.ok(events.length > 2, text);
    for (const e of events) assert.equal(e.as_seen, 'streamed');
    const content = events.map((e) => e.choices?.[0]?.delta?.content ?? '').join('');
    assert.ok(!content.includes('DROPME'), content);
    assert.match(content, /keep/);
  });

  test('Rust: pre_hook rewrites the request (model), worker isolation', async () => {
    const { client } = await gateway([{ name: 'rs', path: RUST, config: { prefix: 'rs' }, isolation: 'worker', instances: 1 }]);
    const res = await client.chat.completions.create(chat('x', 'mock/m1'));
    assert.equal(res.model, 'rs-m1');
  });

  test('hostile (trap), fail_closed: the failing request gets an error naming the plugin; other requests and the next one work', async () => {
    const path = wasmFile('tilde-trap', TILDE_TRAP);
    const { gw } = await gateway([{ name: 'tilde', path, on_error: 'fail_closed' }]);
    const bad = await postJson(`${gw.baseURL}/chat/completions`, chat('x'), { 'x-poison': '~' });
    assert.ok(bad.status >= 500, `${bad.status} ${bad.text}`);
    assert.match(bad.text, /tilde/);
    const good = await postJson(`${gw.baseURL}/chat/completions`, chat('after'));
    assert.equal(good.status, 200, good.text);
    assert.equal(good.json.choices[0].message.content, 'Echo: after');
  });

  test('hostile (trap), fail_open: the failing hook is skipped and the request succeeds', async () => {
    const path = wasmFile('tilde-trap-open', TILDE_TRAP);
    const { gw } = await gateway([{ name: 'tilde', path, on_error: 'fail_open' }]);
    const res = await postJson(`${gw.baseURL}/chat/completions`, chat('still served'), { 'x-poison': '~' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.choices[0].message.content, 'Echo: still served');
  });

  test('hostile (infinite loop), worker isolation: the request fails at timeout_ms while other requests are served', async () => {
    const path = wasmFile('tilde-spin', TILDE_SPIN);
    const { gw } = await gateway([{ name: 'spin', path, isolation: 'worker', instances: 2, limits: { timeout_ms: 300 } }]);
    const t0 = Date.now();
    const stuck = postJson(`${gw.baseURL}/chat/completions`, chat('spin ~'));
    const ok = await postJson(`${gw.baseURL}/chat/completions`, chat('meanwhile'));
    assert.equal(ok.status, 200, ok.text);
    const bad = await stuck;
    assert.ok(bad.status >= 500, `${bad.status} ${bad.text}`);
    assert.match(bad.text, /spin/);
    assert.ok(Date.now() - t0 < 3000);
    const after = await postJson(`${gw.baseURL}/chat/completions`, chat('after'));
    assert.equal(after.status, 200, after.text);
  });

  test('hostile (infinite loop), inline: fuel stops it and the gateway keeps serving', async () => {
    const path = wasmFile('tilde-spin-inline', TILDE_SPIN);
    const { gw } = await gateway([{ name: 'spin', path, limits: { fuel: 5_000_000 } }]);
    const bad = await postJson(`${gw.baseURL}/chat/completions`, chat('spin ~'));
    assert.ok(bad.status >= 500, `${bad.status} ${bad.text}`);
    const ok = await postJson(`${gw.baseURL}/chat/completions`, chat('fine'));
    assert.equal(ok.status, 200, ok.text);
  });
});
