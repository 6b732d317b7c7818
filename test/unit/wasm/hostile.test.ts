// Every hostile module: the failing call throws an error that names the plugin, the hook and the
// reason; the next call works on a rebuilt instance; nothing hangs.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { WasmPluginError } from '../../../packages/gateway/src/plugins/wasm/index.js';
import { asString, doublingChain, hostile, indirectRecursion, mutualRecursion, recursionInLoop, returns } from './hostile.wat.js';
import { ctx, httpReq, llmReq, loadBytes, recordingLog, wat } from './helpers.js';

interface Case { name: string; wat: string; reason: RegExp; limits?: Record<string, number> }

const cases: Case[] = [
  { name: 'unreachable', wat: hostile('unreachable'), reason: /trap: unreachable/ },
  { name: 'divide by zero', wat: hostile('(drop (i32.div_u (i32.const 1) (i32.const 0))) (i64.const 0)'), reason: /divide by zero/ },
  { name: 'out-of-bounds store', wat: hostile('(i32.store (i32.const 0x7ffffff0) (i32.const 1)) (i64.const 0)'), reason: /memory access out of bounds/ },
  { name: 'infinite loop', wat: hostile('(loop $l (br $l)) (i64.const 0)'), reason: /fuel exhausted/, limits: { fuel: 2_000_000 } },
  {
    name: 'unbounded memory.grow',
    wat: hostile('(loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) unreachable'),
    reason: /memory near its limit of 8 MiB/,
    limits: { memory_mb: 8 },
  },
  {
    name: 'deep recursion',
    wat: hostile('(drop (call $down (i32.const 0))) (i64.const 0)', '(func $down (param i32) (result i32) (i32.add (call $down (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))'),
    reason: /stack overflow|fuel exhausted/,
  },
  // Calls without loops: 2^64 of them, only fuel stops them (functions whose call tree is small
  // pay nothing at entry; the ones above them do).
  { name: 'doubling call chain of 64 functions', wat: doublingChain(64), reason: /fuel exhausted/, limits: { fuel: 2_000_000 } },
  // Small budgets: fuel must run out long before the stack does (each cycle has a paying member).
  { name: 'deep mutual recursion', wat: mutualRecursion, reason: /fuel exhausted/, limits: { fuel: 3000 } },
  { name: 'recursion through call_indirect', wat: indirectRecursion, reason: /fuel exhausted/, limits: { fuel: 3000 } },
  { name: 'recursion from inside a loop', wat: recursionInLoop, reason: /fuel exhausted/, limits: { fuel: 3000 } },
  { name: 'out-of-range pointer', wat: hostile('(i64.or (i64.shl (i64.const 0xfffffff0) (i64.const 32)) (i64.const 100))'), reason: /outside linear memory/ },
  { name: 'huge length', wat: hostile('(i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 0xffffffff))'), reason: /outside linear memory/ },
  { name: 'invalid UTF-8', wat: returns('{\\"context\\":\\"\\ff\\fe\\"}', 16), reason: /not valid UTF-8/ },
  { name: 'invalid JSON', wat: returns('{not json', 9), reason: /not valid JSON/ },
  { name: 'wrong JSON shape (array)', wat: returns('[1,2,3]', 7), reason: /must be a JSON object/ },
  { name: 'wrong JSON shape (field type)', wat: returns('{\\"context\\":5}', 13), reason: /"context" must be an object/ },
  {
    name: 'abort with a message',
    wat: hostile(
      '(call $abort (i32.const 512) (i32.const 600) (i32.const 12) (i32.const 5)) (i64.const 0)',
      `${asString(512, 'boom: bad input')} ${asString(600, 'assembly/index.ts')}`,
      '(import "env" "abort" (func $abort (param i32 i32 i32 i32)))',
    ),
    reason: /abort: boom: bad input \(assembly\/index\.ts:12:5\)/,
  },
  {
    name: 'proc_exit during a hook',
    wat: hostile('(call $exit (i32.const 2)) (i64.const 0)', '', '(import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))'),
    reason: /proc_exit\(2\)/,
  },
];

for (const c of cases) {
  test(`hostile: ${c.name} fails the call, names plugin/hook/reason, next call works`, async () => {
    const log = recordingLog();
    const p = await loadBytes(wat(c.wat), { name: `hostile-${c.name}`, limits: c.limits ?? {} }, log);
    const started = performance.now();
    assert.throws(
      () => p.httpTransportPreHook!(ctx(), httpReq()),
      (err: unknown) => {
        assert.ok(err instanceof WasmPluginError, `not a WasmPluginError: ${String(err)}`);
        assert.equal(err.failure, true);
        assert.match(err.message, new RegExp(`wasm plugin "hostile-${c.name.replace(/[()]/g, '\\$&')}" failed in http_pre_hook`));
        assert.match(err.message, c.reason);
        return true;
      },
    );
    assert.ok(performance.now() - started < 5000, 'the failure took too long');
    // The next call runs on a fresh instance (the poisoned one would trap in pre_hook).
    const c2 = ctx();
    assert.equal(p.preLLMHook!(c2, llmReq()), undefined);
    assert.equal(c2.values.ok, true);
    assert.equal(p.isHealthy!(), true);
    await p.cleanup!();
  });
}

test('hostile: returning 0 is "no change", not a failure', async () => {
  const p = await loadBytes(wat(hostile('(i64.const 0)')));
  const req = httpReq();
  const before = JSON.stringify({ ...req, body: [...req.body!] });
  assert.equal(p.httpTransportPreHook!(ctx(), req), undefined);
  assert.equal(JSON.stringify({ ...req, body: [...req.body!] }), before);
  // Same instance still in use: it was poisoned, so pre_hook now traps.
  assert.throws(() => p.preLLMHook!(ctx(), llmReq()), /unreachable/);
});

test('hostile: a pointer + length of 0 (len 0) is also "no change"', async () => {
  const p = await loadBytes(wat(hostile('(i64.shl (i64.const 16) (i64.const 32))')));
  assert.equal(p.httpTransportPreHook!(ctx(), httpReq()), undefined);
});

const loadFailures: { name: string; wat: string; message: RegExp }[] = [
  { name: 'init returns 1', wat: hostile('(i64.const 0)').replace('(func (export "init") (param i32 i32) (result i32) (i32.const 0))', '(func (export "init") (param i32 i32) (result i32) (i32.const 1))'), message: /init returned 1 \(expected 0\)/ },
  { name: 'no allocator', wat: '(module (memory (export "memory") 1) (func (export "pre_hook") (param i32 i32) (result i64) (i64.const 0)))', message: /no allocator: export "malloc" or "plugin_malloc"/ },
  { name: 'no memory', wat: '(module (memory 1) (func (export "malloc") (param i32) (result i32) (i32.const 0)))', message: /no "memory" export/ },
  { name: 'unknown import', wat: '(module (import "env" "whatever" (func (param i32))) (memory (export "memory") 1) (func (export "malloc") (param i32) (result i32) (i32.const 0)))', message: /import "env\.whatever" is not provided by the gateway/ },
  { name: 'unknown wasi function', wat: '(module (import "wasi_snapshot_preview1" "sock_listen" (func (param i32))) (memory (export "memory") 1) (func (export "malloc") (param i32) (result i32) (i32.const 0)))', message: /wasi_snapshot_preview1\.sock_listen/ },
  { name: 'hook with the wrong signature', wat: '(module (memory (export "memory") 1) (func (export "malloc") (param i32) (result i32) (i32.const 0)) (func (export "pre_hook") (param i32 i32) (result i32) (i32.const 0)))', message: /export "pre_hook" has signature \(i32, i32\) -> i32, expected \(i32, i32\) -> i64/ },
  { name: 'free with three params', wat: '(module (memory (export "memory") 1) (func (export "malloc") (param i32) (result i32) (i32.const 0)) (func (export "free") (param i32 i32 i32)))', message: /export "free" has signature \(i32, i32, i32\) -> \(\), expected \(i32\) -> \(\) or \(i32, i32\) -> \(\)/ },
  { name: 'memory minimum above the cap', wat: '(module (memory (export "memory") 200) (func (export "malloc") (param i32) (result i32) (i32.const 0)))', message: /memory minimum 200 pages .* exceeds the limit of 128 pages/ },
  { name: 'not wasm at all', wat: '', message: /not a WebAssembly module/ },
];

for (const c of loadFailures) {
  test(`load refused: ${c.name}`, async () => {
    const bytes = c.wat ? wat(c.wat) : new TextEncoder().encode('hello, not wasm');
    await assert.rejects(loadBytes(bytes, { name: 'bad-one', limits: { memory_mb: 8 } }), (err: Error) => {
      assert.match(err.message, /^wasm plugin "bad-one" \(/);
      assert.match(err.message, c.message);
      return true;
    });
  });
}

test('five failures in a row mark the plugin unhealthy; calls are refused at once', async () => {
  const log = recordingLog();
  const p = await loadBytes(wat(hostile('unreachable')), { name: 'flaky' }, log);
  for (let i = 0; i < 5; i++) assert.throws(() => p.httpTransportPreHook!(ctx(), httpReq()), /unreachable/);
  assert.equal(p.isHealthy!(), false);
  assert.throws(() => p.preLLMHook!(ctx(), llmReq()), /wasm plugin "flaky" failed in pre_hook: unhealthy after repeated failures/);
  assert.ok(log.lines.some((l) => l.level === 'error' && l.msg === 'wasm plugin marked unhealthy'));
});

test('fuel: an infinite loop with the default budget traps within a bounded time, in modules with and without WASI imports', async () => {
  for (const imports of ['', '(import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))']) {
    const p = await loadBytes(wat(hostile('(loop $l (br $l)) (i64.const 0)', '', imports)), { name: 'spin' });
    const t0 = performance.now();
    assert.throws(() => p.httpTransportPreHook!(ctx(), httpReq()), /wasm plugin "spin" failed in http_pre_hook: fuel exhausted \(limit 100000000 per call/);
    const took = performance.now() - t0;
    assert.ok(took < 2000, `took ${took} ms`);
    const c = ctx();
    p.preLLMHook!(c, llmReq());
    assert.equal(c.values.ok, true);
  }
});

test('fuel: a loop that calls a function each iteration is stopped too', async () => {
  const p = await loadBytes(wat(hostile('(loop $l (drop (call $leaf (i32.const 1))) (br $l)) (i64.const 0)', '(func $leaf (param i32) (result i32) (local.get 0))')), { name: 'spin2', limits: { fuel: 1_000_000 } });
  assert.throws(() => p.httpTransportPreHook!(ctx(), httpReq()), /fuel exhausted/);
});
