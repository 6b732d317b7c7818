import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import wabtInit from 'wabt';
import { mockConfig, postJson, startTestGateway } from '../helpers/gateway.js';

/**
 * What a plugin controls, bounded, through the real gateway: load on a worker-isolated guard
 * (21.4) never skips it, and its output budget is visible in /health (21.3).
 */
const wabt = await wabtInit();
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-plugin-bounds-'));
function wasmFile(name: string, src: string): string {
  const m = wabt.parseWat(`${name}.wat`, src, { bulk_memory: true });
  m.resolveNames();
  m.validate();
  const file = join(dir, `${name}.wasm`);
  writeFileSync(file, new Uint8Array(m.toBinary({}).buffer));
  return file;
}

const MALLOC = `(global $bump (mut i32) (i32.const 4096))
  (func (export "malloc") (param $n i32) (result i32) (local $p i32)
    (local.set $p (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $n)))
    (if (i32.gt_u (global.get $bump) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.add (i32.shr_u (local.get $n) (i32.const 16)) (i32.const 1))))))
    (local.get $p))
  (func (export "free") (param i32))
  (func (export "init") (param i32 i32) (result i32) (i32.const 0))`;

/** pre_hook: busy for 100 ms of wall time (well within its deadline), then prints "ran" and changes nothing. */
const GUARD = wasmFile('busy-guard', `(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  ${MALLOC}
  (data (i32.const 128) "ran\\n")
  (func (export "pre_hook") (param i32 i32) (result i64) (local $t0 i64)
    (drop (call $clock (i32.const 1) (i64.const 0) (i32.const 64)))
    (local.set $t0 (i64.load (i32.const 64)))
    (loop $spin
      (drop (call $clock (i32.const 1) (i64.const 0) (i32.const 64)))
      (br_if $spin (i64.lt_u (i64.sub (i64.load (i32.const 64)) (local.get $t0)) (i64.const 100000000))))
    (i32.store (i32.const 16) (i32.const 128))
    (i32.store (i32.const 20) (i32.const 4))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 32)))
    (global.set $bump (i32.const 4096))
    (i64.const 0)))`);

test('21.4: a worker guard under load is waited for or refused with 503 + retry-after, never skipped under fail_open', async () => {
  const gw = await startTestGateway(mockConfig({
    plugins: [{ name: 'guard', path: GUARD, on_error: 'fail_open', isolation: 'worker', instances: 1, limits: { timeout_ms: 1000, queue_timeout_ms: 400 } }],
  }));
  try {
    const n = 16;
    const answers = await Promise.all(Array.from({ length: n }, (_, i) =>
      postJson(`${gw.baseURL}/chat/completions`, { model: 'mock/m', messages: [{ role: 'user', content: `r${i}` }] })));
    await new Promise((r) => setTimeout(r, 300)); // the worker's log lines arrive as messages
    const ran = gw.logs.filter((l) => l.plugin === 'guard' && l.msg === 'ran').length;
    const ok = answers.filter((a) => a.status === 200);
    const busy = answers.filter((a) => a.status === 503);
    assert.equal(ok.length + busy.length, n, answers.map((a) => `${a.status} ${a.text.slice(0, 120)}`).join('\n'));
    assert.ok(busy.length > 0, 'with 16 calls of 100 ms on one worker and 400 ms of queue, some are refused');
    assert.ok(ok.length >= 3, `${ok.length} served`);
    // Every 200 went through the guard: none was waved through because the guard was busy.
    assert.equal(ok.length, ran, `${ok.length} answers but the guard ran ${ran} times`);
    for (const b of busy) {
      assert.equal(b.json.error.code, 'GH_ERR_PLUGIN_BUSY', b.text);
      assert.match(b.json.error.message, /plugin "guard" is busy in pre_hook: all plugin workers busy/);
      assert.equal(b.headers.get('retry-after'), '1');
    }
    const health = await (await fetch(`${gw.url}/health`)).json();
    const guard = health.plugins.find((p: { name: string }) => p.name === 'guard');
    assert.equal(guard.healthy, true, 'refusals are not plugin failures');
    assert.deepEqual(guard.failures, {}, 'refusals are not counted as failures');
  } finally {
    await gw.close(2000);
  }
});

/** http_pre_hook: 256 KiB of newlines per call, to stderr. */
const FLOOD = wasmFile('flood', `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 8)
  ${MALLOC}
  (func (export "http_pre_hook") (param i32 i32) (result i64)
    (memory.fill (i32.const 131072) (i32.const 10) (i32.const 262144))
    (i32.store (i32.const 16) (i32.const 131072))
    (i32.store (i32.const 20) (i32.const 262144))
    (drop (call $fd_write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 32)))
    (global.set $bump (i32.const 4096))
    (i64.const 0)))`);

test('21.3: a plugin flooding stderr: requests stay fast, the log bounded, the drop count in /health', async () => {
  const gw = await startTestGateway(mockConfig({ plugins: [{ name: 'flood', path: FLOOD }] }));
  try {
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) {
      const r = await postJson(`${gw.baseURL}/chat/completions`, { model: 'mock/m', messages: [{ role: 'user', content: 'x' }] });
      assert.equal(r.status, 200, r.text);
    }
    const took = performance.now() - t0;
    const lines = gw.logs.filter((l) => l.plugin === 'flood' && l.stream === 'stderr').length;
    assert.ok(lines <= 20 * 256, `${lines} log lines for 20 calls`);
    assert.ok(took < 15000, `20 requests took ${Math.round(took)} ms`);
    const health = await (await fetch(`${gw.url}/health`)).json();
    const flood = health.plugins.find((p: { name: string }) => p.name === 'flood');
    assert.ok(flood.log_dropped_bytes > 20 * 200_000, `log_dropped_bytes ${flood.log_dropped_bytes}`);
  } finally {
    await gw.close(2000);
  }
});
