// The well-behaved fixture plugins (AssemblyScript with both runtimes, Rust/serde, C/WASI in
// TinyGo's shape) through every hook they export, inline: context values, request changes,
// short-circuits, recovery, stream chunk changes and drops.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { loadWasmPlugin, type WasmPlugin } from '../../../packages/gateway/src/plugins/wasm/index.js';
import type { HttpResponseData } from '../../../packages/gateway/src/schema/http.js';
import { ctx, entry, httpReq, llmReq, opts, recordingLog } from './helpers.js';

const loaded: WasmPlugin[] = [];
after(async () => { for (const p of loaded) await p.cleanup!(); });

async function load(path: string, config: Record<string, unknown> = {}, log = recordingLog()): Promise<WasmPlugin> {
  const p = (await loadWasmPlugin(entry(path, { name: path.split('/')[0], config }), opts(log))) as WasmPlugin;
  loaded.push(p);
  return p;
}

for (const file of ['as-hello/as-hello-stub.wasm', 'as-hello/as-hello.wasm']) {
  test(`AssemblyScript ${file}: every hook, context carried across hooks`, async () => {
    const p = await load(file, { greeting: 'hej' });
    assert.equal(p.name, 'as-hello');
    assert.equal(p.reportedName, 'as-hello');
    // Only exported hooks become methods.
    for (const m of ['httpTransportPreHook', 'httpTransportPostHook', 'httpTransportStreamChunkHook', 'preLLMHook', 'postLLMHook']) {
      assert.equal(typeof (p as unknown as Record<string, unknown>)[m], 'function', m);
    }
    const c = ctx('r-42');
    const req = httpReq({ headers: { 'content-type': 'application/json', 'x-remove-me': 'bye', 'X-AS-PLUGIN': 'old' } });
    assert.equal(await p.httpTransportPreHook!(c, req), undefined);
    assert.equal(req.headers['x-as-plugin'], 'hej', 'header added');
    assert.equal(req.headers['X-AS-PLUGIN'], undefined, 'case variant replaced');
    assert.equal(req.headers['x-remove-me'], undefined, 'a header set to null is removed');
    assert.equal(req.method, 'POST');
    assert.equal(c.values.as_http_pre, 'hej');
    assert.equal(c.values.request_id, 'r-42');

    const pre = await p.preLLMHook!(c, llmReq());
    assert.ok(pre && 'request' in pre && pre.request);
    assert.deepEqual(pre.request.params, { temperature: 0.2, as_touched: true });
    assert.deepEqual(pre.request.fallbacks, ['anthropic/claude-3-5-haiku'], 'fallbacks round-trip through {provider, model}');
    assert.equal(c.values.as_pre, 'seen');

    const sc = await p.preLLMHook!(c, llmReq({ model: 'as-magic' }));
    assert.ok(sc && 'shortCircuit' in sc);
    assert.equal((sc.shortCircuit!.response!.chat_response as { id: string }).id, 'as-mock');

    const blocked = await p.preLLMHook!(c, llmReq({ model: 'as-block' }));
    assert.ok(blocked && 'shortCircuit' in blocked);
    assert.equal(blocked.shortCircuit!.error!.status_code, 429);
    assert.equal(blocked.shortCircuit!.error!.allow_fallbacks, false);

    const recovered = await p.postLLMHook!(c, null, { status_code: 502, error: { message: 'please recover', type: 'api_error' } });
    assert.ok(recovered);
    assert.equal(recovered.error, null);
    assert.equal((recovered.response!.chat_response as { id: string }).id, 'as-recovered');
    const kept = await p.postLLMHook!(c, null, { status_code: 500, error: { message: 'fatal', type: 'api_error' } });
    assert.ok(kept);
    assert.equal(kept.error!.status_code, 500);
    assert.equal(c.values.as_post, true);

    const chunk = await p.httpTransportStreamChunkHook!(c, req, { id: 'c1', object: 'chat.completion.chunk', choices: [] });
    assert.deepEqual(chunk, { id: 'c1', object: 'chat.completion.chunk', choices: [], as_seen: 'hej' });
    assert.equal(await p.httpTransportStreamChunkHook!(c, req, { id: 'c2', drop_me: true }), null);

    const resp: HttpResponseData = { status_code: 200, headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode('{}') };
    await p.httpTransportPostHook!(c, req, resp);
    assert.equal(resp.headers['x-as-post'], 'saw-pre', 'context from pre_hook seen in http_post_hook');
    assert.equal(resp.status_code, 200);
    assert.deepEqual([...resp.body!], [...new TextEncoder().encode('{}')]);
    assert.equal(c.values.as_http_post, true);
    assert.equal(c.values.as_chunk, true);
  });

  test(`AssemblyScript ${file}: short-circuit response and error from http_pre_hook`, async () => {
    const p = await load(file);
    const res = await p.httpTransportPreHook!(ctx(), httpReq({ headers: { 'x-short-circuit': '1' } }));
    assert.ok(res);
    assert.equal(res.status_code, 418);
    assert.equal(new TextDecoder().decode(res.body!), 'short circuited');
    await assert.rejects(async () => p.httpTransportPreHook!(ctx(), httpReq({ headers: { 'x-fail-with': 'nope' } })), (err: Error & { failure?: boolean }) => {
      assert.match(err.message, /wasm plugin "as-hello" http_pre_hook returned an error: nope/);
      assert.equal(err.failure, false);
      return true;
    });
    assert.equal(p.isHealthy!(), true);
  });
}

test('AssemblyScript stub runtime: an instance past the memory high-water mark is recycled, calls keep working', async () => {
  const log = recordingLog();
  // 3 MiB, not 2: the stub runtime doubles memory on a grow, and this module starts at 17 pages, so
  // its first call asks for 34 pages, past a 2 MiB (32-page) cap: that call is a failure (a grow past
  // the cap, tested in e2e/plugin-semantics), not the recycling this test is about.
  const p = (await loadWasmPlugin(entry('as-hello/as-hello-stub.wasm', { limits: { memory_mb: 3 } }), opts(log))) as WasmPlugin;
  loaded.push(p);
  const req = httpReq({ body: new Uint8Array(4096).fill(65) });
  let lastCalls = 0;
  let resets = 0;
  for (let i = 0; i < 400; i++) {
    const c = ctx();
    await p.httpTransportPreHook!(c, req);
    const calls = c.values.as_calls as number;
    if (calls < lastCalls) resets++;
    lastCalls = calls;
  }
  assert.ok(resets >= 1, 'the leaking instance was rebuilt at least once');
  assert.ok(log.lines.some((l) => l.msg?.includes('high-water')), 'recycling is logged');
});

test('Rust (serde, two-argument free): hooks, chat_request nesting, short-circuit error', async () => {
  const p = await load('rust-hello/rust-hello.wasm', { prefix: 'rs' });
  assert.equal(p.reportedName, 'rust-hello');
  assert.equal(p.httpTransportStreamChunkHook, undefined, 'no stream hook exported, no method');
  const c = ctx();
  const req = httpReq();
  await p.httpTransportPreHook!(c, req);
  assert.equal(req.headers['x-rust-plugin'], 'rs');
  assert.deepEqual([...req.body!], [...httpReq().body!], 'body survives the base64 round trip');
  const pre = await p.preLLMHook!(c, llmReq({ model: 'gpt-4o-mini' }));
  assert.ok(pre && 'request' in pre);
  assert.equal(pre.request!.model, 'rs-gpt-4o-mini', 'request nested under chat_request is accepted');
  const sc = await p.preLLMHook!(c, llmReq({ model: 'rust-block' }));
  assert.ok(sc && 'shortCircuit' in sc);
  assert.equal(sc.shortCircuit!.error!.error!.message, 'Rate limit exceeded');
  const resp = { chat_response: { id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [] } };
  const post = await p.postLLMHook!(c, resp as never, null);
  assert.deepEqual(post, { response: resp, error: null });
  await p.httpTransportPostHook!(c, req, { status_code: 200, headers: {}, body: null });
  for (const k of ['rust_http_pre', 'rust_pre', 'rust_post', 'rust_http_post']) assert.equal(c.values[k], true, k);
});

test('C/WASI command in TinyGo shape: _start with proc_exit(0), plugin_malloc, http_intercept, output to the log', async () => {
  const log = recordingLog();
  const p = await load('c-wasi/c-wasi.wasm', { k: 1 }, log);
  assert.equal(p.reportedName, 'c-wasi');
  assert.equal(typeof p.httpTransportPreHook, 'function', 'http_intercept stands in for http_pre_hook');
  const c = ctx();
  c.setValue('before', 1);
  assert.equal(await p.httpTransportPreHook!(c, httpReq()), undefined);
  assert.equal(c.values.c_wasi, 1);
  assert.equal(c.values.before, 1);
  assert.equal(await p.preLLMHook!(c, llmReq()), undefined, 'request null keeps the original');
  assert.equal(await p.postLLMHook!(c, null, { error: { message: 'x' }, status_code: 500 }), undefined, 'documents pass-through keeps the result');
  assert.equal(c.values.c_wasi, 3);
  const printed = log.lines.filter((l) => l.obj.plugin === 'c-wasi/c-wasi.wasm'.split('/')[0]);
  assert.ok(printed.some((l) => l.level === 'info' && l.msg === 'c-wasi: started' && l.obj.stream === 'stdout'), JSON.stringify(printed));
  assert.ok(printed.some((l) => l.msg === 'c-wasi: init with 7 bytes of config'));
  assert.ok(printed.some((l) => l.level === 'warn' && l.msg === 'c-wasi: pre_hook' && l.obj.stream === 'stderr'));
});

test('C/WASI: init failure names the code and quotes what the plugin printed', async () => {
  await assert.rejects(load('c-wasi/c-wasi.wasm', { fail: true }), /init returned 3 \(expected 0\); plugin output: .*c-wasi: refusing this config/);
});
