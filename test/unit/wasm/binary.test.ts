// The module reader, the contract check (inspectWasm) and the memory cap, without loading.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { capMemory, parseModule } from '../../../packages/gateway/src/plugins/wasm/binary.js';
import { inspectWasm } from '../../../packages/gateway/src/plugins/wasm/index.js';
import { FIXTURES, wat } from './helpers.js';

test('inspectWasm: the AssemblyScript fixture passes, with its hooks, free arity and env.abort', () => {
  const r = inspectWasm(new Uint8Array(readFileSync(join(FIXTURES, 'as-hello/as-hello-stub.wasm'))));
  assert.deepEqual(r.problems, []);
  assert.ok(r.abi);
  assert.equal(r.abi.malloc, 'malloc');
  assert.deepEqual(r.abi.free, { name: 'free', arity: 1 });
  assert.deepEqual(r.abi.hooks, ['http_pre_hook', 'http_post_hook', 'http_stream_chunk_hook', 'pre_hook', 'post_hook']);
  assert.equal(r.abi.abortImport, true);
  assert.deepEqual(r.imports, [{ module: 'env', name: 'abort', kind: 'func', signature: '(i32, i32, i32, i32) -> ()' }]);
  assert.ok(r.exports.some((e) => e.name === 'pre_hook' && e.signature === '(i32, i32) -> i64'));
});

test('inspectWasm: Rust has a two-argument free; the C/WASI module prefers plugin_malloc/plugin_free and _start', () => {
  const rust = inspectWasm(new Uint8Array(readFileSync(join(FIXTURES, 'rust-hello/rust-hello.wasm'))));
  assert.deepEqual(rust.abi?.free, { name: 'free', arity: 2 });
  const c = inspectWasm(new Uint8Array(readFileSync(join(FIXTURES, 'c-wasi/c-wasi.wasm'))));
  assert.deepEqual(c.problems, []);
  assert.equal(c.abi?.malloc, 'plugin_malloc');
  assert.deepEqual(c.abi?.free, { name: 'plugin_free', arity: 1 });
  assert.equal(c.abi?.start, '_start');
  assert.deepEqual(c.abi?.hooks, ['http_intercept', 'pre_hook', 'post_hook']);
});

test('inspectWasm: lists every problem at once', () => {
  const r = inspectWasm(wat(`(module (import "env" "now" (func (result f64))) (func (export "init") (param i32) (result i32) (i32.const 0))
    (global (export "memory") i32 (i32.const 0)))`));
  assert.equal(r.abi, null);
  assert.equal(r.problems.length, 4, r.problems.join('\n'));
  assert.ok(r.problems.some((p) => p.includes('export "memory" must be a memory, found a global')));
  assert.ok(r.problems.some((p) => p.includes('no allocator')));
  assert.ok(r.problems.some((p) => p.includes('export "init" has signature (i32) -> i32, expected (i32, i32) -> i32')));
  assert.ok(r.problems.some((p) => p.includes('import "env.now" is not provided')));
  assert.deepEqual(inspectWasm(new Uint8Array([1, 2, 3])).problems, ['not a WebAssembly module (bad magic number)']);
});

test('capMemory: rewrites the maximum; memory.grow past it returns -1', () => {
  const bytes = wat('(module (memory (export "memory") 2) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))');
  const info = parseModule(bytes);
  assert.deepEqual(info.memories, [{ min: 2, max: null, shared: false, memory64: false }]);
  const capped = capMemory(bytes, info, 10);
  assert.deepEqual(parseModule(capped).memories[0], { min: 2, max: 10, shared: false, memory64: false });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(capped as Uint8Array<ArrayBuffer>));
  const grow = inst.exports.grow as (n: number) => number;
  assert.equal(grow(8), 2);
  assert.equal(grow(1), -1);
  assert.equal((inst.exports.memory as WebAssembly.Memory).buffer.byteLength, 10 * 65536);
  // A smaller declared maximum is kept; a minimum above the cap is refused.
  const small = wat('(module (memory (export "memory") 1 3))');
  assert.equal(capMemory(small, parseModule(small), 10), small);
  assert.throws(() => capMemory(bytes, info, 1), /memory minimum 2 pages .* exceeds the limit of 1 pages/);
});

test('capMemory: works when the memory section follows a large section (multi-byte sizes)', () => {
  const big = wat(`(module (type (func)) ${Array.from({ length: 300 }, (_, i) => `(import "env" "f${i}" (func))`).join(' ')} (memory (export "memory") 1 65536))`);
  const info = parseModule(big);
  const capped = capMemory(big, info, 64);
  assert.equal(parseModule(capped).memories[0]!.max, 64);
  assert.equal(parseModule(capped).imports.length, 300);
  new WebAssembly.Module(capped as Uint8Array<ArrayBuffer>); // still valid
});

test('every fixture plugin gets fuel metering (also modules whose first import is WASI)', async () => {
  const { meteredModule } = await import('../../../packages/gateway/src/plugins/wasm/meter.js');
  for (const f of ['as-hello/as-hello.wasm', 'rust-hello/rust-hello.wasm', 'c-wasi/c-wasi.wasm']) {
    const out = await meteredModule(new Uint8Array(readFileSync(join(FIXTURES, f))), 1000, null);
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(out as Uint8Array<ArrayBuffer>)).map((e) => e.name);
    assert.ok(exports.includes('__gatehouse_fuel'), f);
  }
});
