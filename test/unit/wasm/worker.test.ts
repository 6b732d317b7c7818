// `isolation: "worker"`: hooks run in a worker pool; a call past timeout_ms terminates its worker
// and the warm spare serves the next call; the event loop stays free while a plugin spins.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { loadWasmPlugin, WasmPluginError, type WasmPlugin } from '../../../packages/gateway/src/plugins/wasm/index.js';
import { hostile } from './hostile.wat.js';
import { ctx, entry, httpReq, kilobyteBody, llmReq, loadBytes, opts, recordingLog, wat } from './helpers.js';

const loaded: WasmPlugin[] = [];
after(async () => { for (const p of loaded) await p.cleanup!(); });
const keep = (p: WasmPlugin): WasmPlugin => (loaded.push(p), p);

test('worker: AssemblyScript hooks behave as inline, results are promises', async () => {
  const p = keep((await loadWasmPlugin(entry('as-hello/as-hello.wasm', { isolation: 'worker', instances: 2, config: { greeting: 'w' } }), opts())) as WasmPlugin);
  assert.equal(p.reportedName, 'as-hello');
  const c = ctx();
  const req = httpReq();
  const r = p.httpTransportPreHook!(c, req);
  assert.ok(r instanceof Promise);
  assert.equal(await r, undefined);
  assert.equal(req.headers['x-as-plugin'], 'w');
  assert.equal(c.values.as_http_pre, 'w');
  const sc = await p.preLLMHook!(c, llmReq({ model: 'as-magic' }));
  assert.ok(sc && 'shortCircuit' in sc);
  // Concurrent calls spread over the pool and all complete.
  const many = await Promise.all(Array.from({ length: 20 }, () => p.httpTransportStreamChunkHook!(ctx(), req, { id: 'x' })));
  for (const m of many) assert.deepEqual(m, { id: 'x', as_seen: 'w' });
});

test('worker: payloads larger than the shared buffer go through the port', async () => {
  const p = keep((await loadWasmPlugin(entry('rust-hello/rust-hello.wasm', { isolation: 'worker', instances: 1 }), opts())) as WasmPlugin);
  const body = new Uint8Array(1_500_000).fill(97); // ~2 MB of base64, over the 1 MiB channel
  const req = httpReq({ body });
  await p.httpTransportPreHook!(ctx(), req);
  assert.equal(req.body!.length, body.length);
  assert.equal(req.headers['x-rust-plugin'], 'rust');
});

test('worker: an infinite loop is terminated at timeout_ms, the event loop keeps running, a new worker serves next, then a warm spare', async () => {
  const log = recordingLog();
  const p = keep(await loadBytes(wat(hostile('(loop $l (br $l)) (i64.const 0)')), { name: 'spinner', isolation: 'worker', instances: 1, limits: { timeout_ms: 150 } }, log));
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const t0 = performance.now();
  await assert.rejects(Promise.resolve(p.httpTransportPreHook!(ctx(), httpReq())), (err: unknown) => {
    assert.ok(err instanceof WasmPluginError);
    assert.match(err.message, /wasm plugin "spinner" failed in http_pre_hook: deadline exceeded: no answer within 150 ms/);
    return true;
  });
  const took = performance.now() - t0;
  clearInterval(timer);
  assert.ok(took >= 140 && took < 1500, `took ${took} ms`);
  assert.ok(ticks >= 5, `event loop was blocked (${ticks} ticks)`);
  // No spare before the first death: the next call waits for a new worker to boot.
  const t1 = performance.now();
  const c = ctx();
  assert.equal(await p.preLLMHook!(c, llmReq()), undefined);
  assert.equal(c.values.ok, true);
  assert.ok(performance.now() - t1 < 1500, `replacement answered in ${performance.now() - t1} ms`);
  // From then on a spare is kept warm: after a second death the next call does not wait for a boot.
  await assert.rejects(Promise.resolve(p.httpTransportPreHook!(ctx(), httpReq())), /deadline exceeded/);
  const t2 = performance.now();
  const c2 = ctx();
  assert.equal(await p.preLLMHook!(c2, llmReq()), undefined);
  assert.equal(c2.values.ok, true);
  assert.ok(performance.now() - t2 < 500, `spare answered in ${performance.now() - t2} ms`);
  assert.equal(p.isHealthy!(), true);
});

test('worker: calls queued behind a spinning plugin are refused once they waited timeout_ms, not run one deadline after another', async () => {
  const p = keep(await loadBytes(wat(hostile('(loop $l (br $l)) (i64.const 0)')), { name: 'queued-spinner', isolation: 'worker', instances: 1, limits: { timeout_ms: 150 } }));
  const t0 = performance.now();
  const results = await Promise.allSettled(Array.from({ length: 8 }, () => Promise.resolve(p.httpTransportPreHook!(ctx(), httpReq()))));
  const took = performance.now() - t0;
  const reasons = results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'fulfilled'));
  assert.match(reasons[0]!, /deadline exceeded: no answer within 150 ms/);
  for (const r of reasons.slice(1)) assert.match(r, /all plugin workers busy: no worker free within \d+ ms \(limits\.queue_timeout_ms\)/);
  // One deadline, not eight in a row (8 x 150 ms).
  assert.ok(took < 800, `took ${Math.round(took)} ms`);
  // Refused calls are not plugin failures: one timeout does not make the plugin unhealthy.
  assert.equal(p.isHealthy!(), true);
});

test('worker: a trap is reported and the worker rebuilds its instance', async () => {
  const p = keep(await loadBytes(wat(hostile('unreachable')), { name: 'trapper', isolation: 'worker', instances: 1 }));
  await assert.rejects(Promise.resolve(p.httpTransportPreHook!(ctx(), httpReq())), /wasm plugin "trapper" failed in http_pre_hook: trap: unreachable/);
  const c = ctx();
  await p.preLLMHook!(c, llmReq());
  assert.equal(c.values.ok, true);
});

test('worker: bad output (invalid JSON) is a failure and the next call gets a fresh instance', async () => {
  const src = hostile('(i64.or (i64.shl (i64.const 2048) (i64.const 32)) (i64.const 9))', '(data (i32.const 2048) "{not json")');
  const p = keep(await loadBytes(wat(src), { name: 'badjson', isolation: 'worker', instances: 1 }));
  await assert.rejects(Promise.resolve(p.httpTransportPreHook!(ctx(), httpReq())), /failed in http_pre_hook: output is not valid JSON/);
  const c = ctx();
  await p.preLLMHook!(c, llmReq()); // the poisoned instance would trap here
  assert.equal(c.values.ok, true);
});

test('worker: start-up failure (init non-zero) fails the load with the plugin output', async () => {
  await assert.rejects(
    loadWasmPlugin(entry('c-wasi/c-wasi.wasm', { name: 'cw', isolation: 'worker', instances: 1, config: { fail: 1 } }), opts()),
    /wasm plugin "cw" .*init returned 3 \(expected 0\); plugin output: .*refusing this config/,
  );
});

test('worker: ~1 KB hook calls complete in sequence without leaking', async () => {
  const p = keep((await loadWasmPlugin(entry('as-hello/as-hello.wasm', { isolation: 'worker', instances: 1 }), opts())) as WasmPlugin);
  const req = httpReq({ body: kilobyteBody() });
  for (let i = 0; i < 300; i++) await p.httpTransportPreHook!(ctx(), req);
  assert.equal(p.isHealthy!(), true);
});
