// Fuel metering (meter.ts, meter-loops.ts): the instrumented module computes exactly what the
// original does, bounded loops that exit early are not overcharged, and every kind of runaway
// loop still traps with "fuel exhausted".
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';

import { parseModule } from '../../../packages/gateway/src/plugins/wasm/binary.js';
import { GuestFailure, GuestInstance } from '../../../packages/gateway/src/plugins/wasm/instance.js';
import { DEFAULT_FUEL } from '../../../packages/gateway/src/plugins/wasm/limits.js';
import { injectFuel, MAX_FREE_TREE } from '../../../packages/gateway/src/plugins/wasm/meter.js';
import { checkModule } from '../../../packages/gateway/src/plugins/wasm/validate.js';
import { bumpMalloc } from '../../helpers/wat.js';
import { FIXTURES, wat } from './helpers.js';
import { doublingChain } from './hostile.wat.js';

const live: GuestInstance[] = [];
after(() => { for (const g of live) g.dispose(); });

function instance(bytes: Uint8Array, fuel: number): GuestInstance {
  const { shape } = checkModule(parseModule(bytes));
  assert.ok(shape, 'not a plugin module');
  const g = GuestInstance.create(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), shape, {
    name: 'meter-test', configJson: '{}', fuel, memoryCapBytes: 1 << 30, highWaterBytes: 1 << 30, outputCounters: new Int32Array(4), print() {},
  });
  live.push(g);
  return g;
}

const fuelLeft = (g: GuestInstance): number => g.fuelLeft()!;

// ---- differential: the fixtures, plain and metered, give byte-identical outputs ----

function chat(content: string, messages = 6): string {
  return JSON.stringify({
    context: { request_id: 'meter-1', note: content.slice(0, 64) },
    request: {
      request_type: 'chat_completion', provider: 'openai', model: 'gpt-4o',
      input: Array.from({ length: messages }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `${i}: ${content}` })),
      params: { temperature: 0.7, max_tokens: 256 }, fallbacks: [{ provider: 'anthropic', model: 'claude-3-5-haiku' }],
    },
  });
}
function post(content: string): string {
  return JSON.stringify({
    context: { request_id: 'meter-2', blob: content },
    response: { chat_response: { id: 'r1', object: 'chat.completion', model: 'm', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] } },
    error: null, has_error: false,
  });
}
const nonAscii = 'héllo wörld — ünïcødé ✓ 日本語のテキスト 🚀🎉 "quoted" \\ back\\slash \n\t tab \u0001 ctl ';
const inputs: [string, string][] = [
  ['pre_hook', chat('message number 1: '.repeat(6))],
  ['pre_hook', chat(nonAscii.repeat(4))],
  ['pre_hook', chat('')],
  ['pre_hook', chat('x'.repeat(200_000), 1)],
  ['pre_hook', chat(nonAscii.repeat(1200), 3)],
  ['post_hook', post('a reply '.repeat(20))],
  ['post_hook', post(nonAscii.repeat(2500))],
];

for (const path of ['as-hello/as-hello.wasm', 'rust-hello/rust-hello.wasm', 'c-wasi/c-wasi.wasm']) {
  test(`meter: ${path} gives byte-identical hook outputs metered and plain`, async () => {
    const bytes = new Uint8Array(readFileSync(FIXTURES + path));
    const metered = await injectFuel(bytes, DEFAULT_FUEL);
    const a = instance(bytes, 0);
    const b = instance(metered, DEFAULT_FUEL);
    for (const [hook, input] of inputs) {
      for (let round = 0; round < 2; round++) {
        const want = a.hookText(hook, input);
        const got = b.hookText(hook, input);
        assert.equal(got, want, `${hook} with ${input.length} chars`);
        assert.ok(fuelLeft(b) >= 0 && fuelLeft(b) < DEFAULT_FUEL, `fuel left ${fuelLeft(b)}`);
      }
    }
  });
}

// ---- hand-written loops ----

/** A plugin whose `http_pre_hook` runs `body` (which must leave nothing on the stack) and answers "no change". */
function loops(body: string, funcs: string): Uint8Array {
  return wat(`(module
  (memory (export "memory") 1)
  ${bumpMalloc(4096)}
  (func (export "free") (param i32))
  (func (export "http_pre_hook") (param $p i32) (param $n i32) (result i64) ${body} (i64.const 0))
  ${funcs})`);
}
const call = (g: GuestInstance): string | null => g.hookText('http_pre_hook', '{}');
async function both(bytes: Uint8Array, fuel: number): Promise<{ plain: GuestInstance; metered: GuestInstance }> {
  return { plain: instance(bytes, 0), metered: instance(await injectFuel(bytes, fuel), fuel) };
}
function assertFuelTrap(g: GuestInstance, ms = 3000): number {
  const t0 = performance.now();
  assert.throws(() => call(g), (err: unknown) => err instanceof GuestFailure && /fuel exhausted/.test(err.reason));
  const took = performance.now() - t0;
  assert.ok(took < ms, `the trap took ${took.toFixed(0)} ms`);
  return took;
}

// Quadratic scans: an outer counted loop, and an inner loop bounded by $n that leaves after two
// iterations. Charging the inner loop its full trip count without refunds would cost ~n²/2.
const scans = `
  (func $scan_top (param $n i32) (result i32) (local $j i32) (local $i i32) (local $sum i32)
    (loop $outer
      (local.set $i (local.get $j))
      (block $found
        (loop $inner
          (if (i32.lt_u (local.get $i) (local.get $n))
            (then
              (br_if $found (i32.ge_u (local.get $i) (i32.add (local.get $j) (i32.const 2))))
              (local.set $sum (i32.add (local.get $sum) (i32.const 1)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $inner)))))
      (br_if $outer (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $n))))
    (local.get $sum))
  (func $scan_bottom (param $n i32) (result i32) (local $j i32) (local $i i32) (local $sum i32)
    (loop $outer
      (local.set $i (local.get $j))
      (block $found
        (loop $inner
          (br_if $found (i32.ge_u (local.get $i) (i32.add (local.get $j) (i32.const 2))))
          (local.set $sum (i32.add (local.get $sum) (i32.const 1)))
          (br_if $inner (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))))
      (br_if $outer (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $n))))
    (local.get $sum))
  (func $scan_ne (param $n i32) (result i32) (local $j i32) (local $i i32) (local $sum i32)
    (loop $outer
      (local.set $i (local.get $j))
      (block $found
        (loop $inner
          (br_if $found (i32.ge_u (local.get $i) (i32.add (local.get $j) (i32.const 2))))
          (local.set $sum (i32.add (local.get $sum) (i32.const 1)))
          (br_if $inner (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))))
      (br_if $outer (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $n))))
    (local.get $sum))
  (func $check (param $got i32) (param $want i32) (if (i32.ne (local.get $got) (local.get $want)) (then unreachable)))`;

test('meter: bounded loops that exit early many times (quadratic scans) are not overcharged', async () => {
  const n = 20_000;
  const want = 2 * n - 1; // two inner iterations per outer one, one for the last
  const body = `(call $check (call $scan_top (i32.const ${n})) (i32.const ${want}))
    (call $check (call $scan_bottom (i32.const ${n})) (i32.const ${want}))
    (call $check (call $scan_ne (i32.const ${n})) (i32.const ${want}))`;
  const fuel = 1_000_000; // n²/2 = 2e8 would not fit
  const { plain, metered } = await both(loops(body, scans), fuel);
  assert.equal(call(plain), null);
  assert.equal(call(metered), null);
  const used = fuel - fuelLeft(metered);
  // Each scan: the outer loop (n + 1), and ~3-4 units per inner loop after its refund.
  assert.ok(used < 3 * 6 * n, `used ${used} fuel`);
});

test('meter: a counted loop pays its trip count once at entry; the metered one pays in batches of 32', async () => {
  const counted = `(local.set $n (i32.const 1000))
    (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))`;
  // The same loop, unrecognisable: the bound is re-read from memory on every iteration.
  const opaque = `(i32.store (i32.const 64) (i32.const 1000))
    (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.load (i32.const 64)))))`;
  for (const [loop, want] of [[counted, 1001], [opaque, 1024]] as const) {
    const bytes = loops('(call $spin (i32.const 0))', `(func $spin (param $n i32) (local $i i32) ${loop})`);
    const { metered } = await both(bytes, 1_000_000);
    assert.equal(call(metered), null);
    // Nothing for the hook's entry (its call tree is two activations), then the loop: 1000 header
    // visits, charged 1001 at entry (the last test happens after the increment) or 32 at a time.
    assert.equal(1_000_000 - fuelLeft(metered), want);
  }
});

test('meter: a loop with a sentinel bound that breaks early still runs (metered fallback or fits)', async () => {
  const funcs = `
  (func $sentinel_local (result i32) (local $i i32) (local $n i32)
    (local.set $n (i32.const 0x7fffffff))
    (block $out
      (loop $l
        (if (i32.lt_s (local.get $i) (local.get $n))
          (then
            (br_if $out (i32.eq (local.get $i) (i32.const 1000)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $l)))))
    (local.get $i))
  (func $sentinel_const (result i32) (local $i i32)
    (block $out
      (loop $l
        (br_if $out (i32.eq (local.get $i) (i32.const 777)))
        (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 0x7fffffff)))))
    (local.get $i))
  (func $too_long_to_prepay (result i32) (local $i i32)
    (block $out
      (loop $l
        (br_if $out (i32.eq (local.get $i) (i32.const 5000)))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 50000000)))))
    (local.get $i))
  (func $bound_written_on_exit (result i32) (local $i i32) (local $n i32)
    (local.set $n (i32.const 100))
    (block $out
      (loop $l
        (if (i32.lt_u (local.get $i) (local.get $n))
          (then
            (if (i32.eq (local.get $i) (i32.const 40))
              (then (local.set $n (i32.const 0x7fffffff)) (br $out)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $l)))))
    (i32.add (local.get $i) (local.get $n)))
  ${scans}`;
  const body = `(call $check (call $bound_written_on_exit) (i32.const 0x80000027))
    (call $check (call $sentinel_local) (i32.const 1000))
    (call $check (call $sentinel_const) (i32.const 777))
    (call $check (call $too_long_to_prepay) (i32.const 5000))`;
  const { plain, metered } = await both(loops(body, funcs), 1_000_000);
  assert.equal(call(plain), null);
  assert.equal(call(metered), null);
  assert.equal(call(metered), null);
  // A refund computed from the rewritten bound would have raised the fuel above the budget.
  assert.ok(fuelLeft(metered) < 1_000_000, `fuel left ${fuelLeft(metered)}`);
});

const runaway: [string, string, number][] = [
  ['an infinite loop', '(loop $l (br $l))', 2_000_000],
  ['a counted loop whose induction variable is also decremented', `
    (loop $l (if (i32.lt_u (local.get $i) (local.get $n)) (then
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const -1)))
      (br $l))))`, DEFAULT_FUEL],
  ['a counted loop whose bound grows inside the loop', `
    (loop $l (if (i32.lt_u (local.get $i) (local.get $n)) (then
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l))))`, DEFAULT_FUEL],
  ['nested counted loops with a huge product of trip counts', `
    (local.set $n (i32.const 100000))
    (loop $outer
      (local.set $i (i32.const 0))
      (loop $inner
        (br_if $inner (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
      (br_if $outer (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $n))))`, DEFAULT_FUEL],
  ['an i != n loop that starts at n (2^32 iterations)', `
    (local.set $i (i32.const 5)) (local.set $n (i32.const 5))
    (loop $l (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))`, DEFAULT_FUEL],
  ['a counted loop to 2^31 - 2^16 (more than the budget)', `
    (local.set $n (i32.const 0x7ffeffff))
    (loop $l (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))`, DEFAULT_FUEL],
  ['a loop tested in the middle whose failing test does not leave', `
    (loop $l
      (block $ok (br_if $ok (i32.lt_u (local.get $i) (local.get $n))) (local.set $j (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))`, DEFAULT_FUEL],
  ['a loop tested in the middle whose bound grows', `
    (block $out (loop $l
      (block $ok (br_if $ok (i32.lt_u (local.get $i) (local.get $n))) (br $out))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))`, DEFAULT_FUEL],
  ['a p + i != e loop whose p moves back as i moves on', `
    (block $out (loop $l
      (block $ok (br_if $ok (i32.ne (i32.add (local.get $j) (local.get $i)) (local.get $n))) (br $out))
      (local.set $j (i32.sub (local.get $j) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))`, DEFAULT_FUEL],
  ['a counted loop whose back edge comes before the increment', `
    (local.set $n (i32.const 10))
    (loop $l (if (i32.lt_u (local.get $i) (local.get $n)) (then
      (br_if $l (i32.eqz (local.get $j)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))`, DEFAULT_FUEL],
];

for (const [name, loop, fuel] of runaway) {
  test(`meter: ${name} traps with fuel exhausted`, async () => {
    const bytes = loops(`(call $spin (i32.const 1000))`, `(func $spin (param $n i32) (local $i i32) (local $j i32) ${loop})`);
    const { metered } = await both(bytes, fuel);
    assertFuelTrap(metered);
  });
}

// ---- entry charges ----

test('meter: functions whose call tree is at most K activations pay nothing at entry; the ones above pay 1', async () => {
  // $f<k> calls $f<k-1> twice. The rule (meter-loops.ts): W(f) = 1 + the W of its free callees;
  // W ≤ K: free, else 1 per activation. Charged callees count 0, so free levels come back above.
  const K = MAX_FREE_TREE;
  const W: number[] = [];
  const paid: number[] = []; // fuel for one call of $f<k>
  for (let k = 0; k < 12; k++) {
    const inner = k === 0 ? 0 : W[k - 1]! > K ? 0 : W[k - 1]!;
    W.push(1 + 2 * inner);
    paid.push((W[k]! > K ? 1 : 0) + (k === 0 ? 0 : 2 * paid[k - 1]!));
  }
  assert.equal(paid[4], 0); // 31 activations, all free with K = 32
  for (const k of [0, 3, 4, 5, 6, 11]) {
    const fns = ['(func $f0 (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))'];
    for (let j = 1; j <= k; j++) fns.push(`(func $f${j} (param i32) (result i32) (call $f${j - 1} (call $f${j - 1} (local.get 0))))`);
    const body = `(call $check (call $f${k} (i32.const 0)) (i32.const ${2 ** k}))`;
    const { plain, metered } = await both(loops(body, `${fns.join(' ')} (func $check (param i32 i32) (if (i32.ne (local.get 0) (local.get 1)) (then unreachable)))`), 1_000_000);
    assert.equal(call(plain), null);
    assert.equal(call(metered), null);
    // The hook: itself, $check, and $f<k> when that one is free.
    const hook = 2 + (W[k]! > K ? 0 : W[k]!) > K ? 1 : 0;
    assert.equal(1_000_000 - fuelLeft(metered), paid[k]! + hook, `chain of ${k + 1}`);
  }
});

test('meter: recursion pays at every level; a call_indirect caller pays at entry', async () => {
  const funcs = `
  (type $t (func (param i32) (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $leaf)
  (func $leaf (param i32) (result i32) (local.get 0))
  (func $down (param $n i32) (result i32)
    (if (result i32) (local.get $n) (then (i32.add (call $down (i32.sub (local.get $n) (i32.const 1))) (i32.const 1))) (else (i32.const 0))))
  (func $indirect (param i32) (result i32) (call_indirect (type $t) (local.get 0) (i32.const 0)))`;
  const body = '(drop (call $down (i32.const 100))) (drop (call $indirect (i32.const 7)))';
  const { metered } = await both(loops(body, funcs), 1_000_000);
  assert.equal(call(metered), null);
  // $down: 101 activations, 1 each; $indirect: 1 ($leaf behind the table is free).
  assert.equal(1_000_000 - fuelLeft(metered), 101 + 1);
});

test('meter: a doubling chain of 64 functions (2^64 calls, no loops) traps on the default budget in bounded time', async () => {
  const metered = instance(await injectFuel(wat(doublingChain(64)), DEFAULT_FUEL), DEFAULT_FUEL);
  // ~0.6 s warm on this VM with K = 32 (each unit pays for at most ~2K tiny calls); cold, longer.
  assertFuelTrap(metered, 10_000);
});

test('meter: a loop tested in the middle (serde_json\'s `p + i != end`, then a scan test at the back edge) is bounded', async () => {
  // Finds the byte 34 from p, or stops at e; the exit test sits between the header and the increment.
  const funcs = `
  (data (i32.const 600) "\\22")
  (func $mid (param $p i32) (param $e i32) (result i32) (local $i i32) (local $t i32)
    (block $done
      (loop $l
        (block $ok
          (br_if $ok (i32.ne (local.tee $t (i32.add (local.get $p) (local.get $i))) (local.get $e)))
          (br $done))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.ne (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 34)))))
    (local.get $i))
  (func $mid_neg (param $p i32) (param $e i32) (result i32) (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.eq (i32.add (local.get $i) (local.get $p)) (local.get $e)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.ne (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 34)))))
    (local.get $i))
  (func $check (param $got i32) (param $want i32) (if (i32.ne (local.get $got) (local.get $want)) (then unreachable)))`;
  for (const [body, want] of [
    ['(call $check (call $mid_neg (i32.const 100) (i32.const 1100)) (i32.const 500))', 501],
    ['(call $check (call $mid_neg (i32.const 1000) (i32.const 2000)) (i32.const 1000))', 1001],
    ['(call $check (call $mid_neg (i32.const 100) (i32.const 100)) (i32.const 0))', 1],
    ['(call $check (call $mid (i32.const 100) (i32.const 1100)) (i32.const 500))', 501],
    ['(call $check (call $mid (i32.const 1000) (i32.const 1010)) (i32.const 10))', 11],
  ] as const) {
    const { plain, metered } = await both(loops(body, funcs), 1_000_000);
    assert.equal(call(plain), null);
    assert.equal(call(metered), null);
    // Charged (e - p) - i + 1 at entry, the rest given back at the exit: one unit per header
    // visit, plus one when the scan test ends it (a metered loop would pay 32 per batch).
    assert.equal(1_000_000 - fuelLeft(metered), want, body);
  }
});
