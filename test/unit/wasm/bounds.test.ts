import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import type { WasmPlugin } from '../../../packages/gateway/src/plugins/wasm/index.js';
import { OUTPUT_CALL_BYTES, OUTPUT_LINE_COST, OUTPUT_SECOND_BYTES } from '../../../packages/gateway/src/plugins/wasm/limits.js';
import { ctx, httpReq, llmReq, loadBytes, recordingLog, wat } from './helpers.js';

/**
 * What a hostile plugin controls, bounded (issue 21.3, 21.5): what it prints, and what a trap
 * costs when its `init` is slow.
 */
const loaded: WasmPlugin[] = [];
after(async () => { for (const p of loaded) await p.cleanup?.(); });
const keep = (p: WasmPlugin): WasmPlugin => (loaded.push(p), p);

const MALLOC = `(global $bump (mut i32) (i32.const 4096))
  (func (export "malloc") (param $n i32) (result i32) (local $p i32)
    (local.set $p (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $n)))
    (if (i32.gt_u (global.get $bump) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.add (i32.shr_u (local.get $n) (i32.const 16)) (i32.const 1))))))
    (local.get $p))
  (func (export "free") (param i32))`;

/** http_pre_hook writes 1 MiB of newlines to stdout in one fd_write, on every call. */
const FLOOD = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 24)
  ${MALLOC}
  (func (export "init") (param i32 i32) (result i32) (i32.const 0))
  (func (export "http_pre_hook") (param i32 i32) (result i64)
    (memory.fill (i32.const 131072) (i32.const 10) (i32.const 1048576))
    (i32.store (i32.const 16) (i32.const 131072))
    (i32.store (i32.const 20) (i32.const 1048576))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 32)))
    (global.set $bump (i32.const 4096))
    (i64.const 0)))`;

for (const isolation of ['inline', 'worker'] as const) {
  test(`21.3 (${isolation}): 1 MiB of newlines per call is cut to the output budget, the rest dropped and counted`, async () => {
    const log = recordingLog();
    const p = keep(await loadBytes(wat(FLOOD), { name: `flood-${isolation}`, isolation, instances: 1 }, log));
    const calls = 8;
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await p.httpTransportPreHook!(ctx(), httpReq());
    const took = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 200)); // worker lines arrive as messages
    const lines = log.lines.filter((l) => l.obj.stream === 'stdout').length;
    const perCall = Math.floor(OUTPUT_CALL_BYTES / OUTPUT_LINE_COST);
    const perSecond = Math.floor(OUTPUT_SECOND_BYTES / OUTPUT_LINE_COST);
    const seconds = Math.ceil(took / 1000) + 1;
    assert.ok(lines > 0, 'some output still reaches the log');
    assert.ok(lines <= Math.min(calls * perCall, seconds * perSecond), `${lines} lines logged for ${calls} calls in ${Math.round(took)} ms`);
    const dropped = p.droppedLogBytes!();
    assert.ok(dropped >= calls * 1048576 - lines - calls * OUTPUT_CALL_BYTES, `dropped ${dropped} bytes`);
    assert.ok(took < 3000, `${calls} calls took ${Math.round(took)} ms`);
  });
}

/**
 * `init` burns ~`n` loop iterations of fuel; http_pre_hook traps; pre_hook answers. The loop is
 * sized so one build takes tens of milliseconds or more: a rebuild on the request path shows.
 */
function slowInit(iterations: number): string {
  return `(module
  (memory (export "memory") 2)
  ${MALLOC}
  (global $sink (mut i32) (i32.const 0))
  (data (i32.const 16) "{\\"context\\":{\\"ok\\":true},\\"request\\":null}")
  (func (export "init") (param i32 i32) (result i32) (local $i i32)
    (loop $l
      (global.set $sink (i32.add (global.get $sink) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const ${iterations}))))
    (i32.const 0))
  (func (export "http_pre_hook") (param i32 i32) (result i64) unreachable)
  (func (export "pre_hook") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 38))))`;
}

test('21.5: after a trap, an inline plugin with a slow init answers from its spare: no init on the request path', async () => {
  const t0 = performance.now();
  const p = keep(await loadBytes(wat(slowInit(5_000_000)), { name: 'slow-init', limits: { fuel: 1_000_000_000 } }));
  const loadMs = performance.now() - t0; // two builds: the instance and its spare
  const buildMs = loadMs / 2;
  assert.ok(buildMs > 20, `one build took ${buildMs.toFixed(1)} ms: too fast to tell`);

  assert.throws(() => p.httpTransportPreHook!(ctx(), httpReq()), /trap: unreachable/);
  const t1 = performance.now();
  const c = ctx();
  p.preLLMHook!(c, llmReq());
  const next = performance.now() - t1;
  assert.equal(c.values.ok, true);
  assert.ok(next < buildMs / 2, `the call after the trap took ${next.toFixed(1)} ms; one build takes ${buildMs.toFixed(1)} ms`);

  // A second trap at once: no spare is left and this init is too costly to run inside a call:
  // the call is refused at once (a plugin failure: on_error applies), not stalled for a build.
  assert.throws(() => p.httpTransportPreHook!(ctx(), httpReq()), /trap: unreachable/);
  const t2 = performance.now();
  assert.throws(() => p.preLLMHook!(ctx(), llmReq()), /no instance ready/);
  assert.ok(performance.now() - t2 < buildMs / 2, 'the refusal was immediate');

  // Off the request path, a timer builds the next instance (spaced so builds take at most ~5% of the loop).
  const deadline = performance.now() + buildMs * 25 + 5000;
  let served = false;
  while (!served && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    try { p.preLLMHook!(ctx(), llmReq()); served = true; } catch { /* not yet */ }
  }
  assert.ok(served, 'a rebuilt instance serves again');
});
