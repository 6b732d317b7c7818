/**
 * Fuel metering, injected at load time with binaryen: a synchronous wasm call on the event loop
 * cannot be interrupted from JavaScript, so the module must stop itself. binaryen's
 * `log-execution` pass puts `call $log_execution(id)` at every function entry, loop header and
 * exit; meter-loops.ts turns those marks into fuel accounting against an exported global (a
 * per-function counter refilled in batches, bounded loops charged once at entry, functions with a
 * small call tree free at entry) that traps when
 * the global goes below zero, and binaryen inlines the helpers so a check costs a few
 * instructions, not a call into JS.
 * The host writes the budget into the global before each call and reads it back after a trap to
 * tell "fuel exhausted" from the plugin's own `unreachable`.
 *
 * binaryen runs in a helper process, for three reasons: a rewrite takes 50-300 ms of CPU
 * that must not block a serving event loop (plugins can be reloaded live); binaryen's own heap
 * (~100 MB) goes back to the OS when the idle helper exits (a worker thread's did not); and the
 * helper runs plain JavaScript with no loader hooks (a TypeScript loader in dev/test takes 10 s to
 * transform binaryen's 14 MB file).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';

import { FUEL_BATCH, FUEL_EXPORT } from './limits.js';
import { instrumentText } from './meter-loops.js';

/** The helper exits after this long without work. */
const IDLE_MS = 5000;

/**
 * K in meter-loops.ts's entry-charge rule: a function whose unpaid call tree (direct calls outside
 * its paying loops, charged callees excluded) has at most K activations pays nothing at entry.
 * 32: AssemblyScript's entry charges per 1 KB call go from 676 (every non-leaf pays) to 100 (64:
 * 85, 256: 42), while one unit still pays for at most K free activations per call site of a
 * paid segment: a 2^64 doubling chain (63 calls per unit) traps after ~0.6 s on the default
 * budget (K = 64: ~1.3 s; every non-leaf paying: ~0.2 s).
 */
export const MAX_FREE_TREE = 32;

/**
 * Runs inside the helper worker, serialised with Function.prototype.toString: no imports, no
 * closures, plain JavaScript only. `rewrite` is meter-loops.ts's `instrumentText`, passed in
 * (the helper defines it from its source text too).
 *
 * The instrumentation is done on binaryen's text form (meter-loops.ts: a per-function local
 * counter refilled from the global in batches, bounded loops charged once at entry). If that
 * fails for a module, it is retried without the bounded-loop fast paths, and then the plain
 * global decrement at every site is used instead.
 */
function meter(binaryen: any, bytes: Uint8Array, startFuel: number, fuelExport: string, batch: number, maxFreeTree: number, rewrite: typeof instrumentText): Uint8Array {
  const F = binaryen.Features;
  // Features V8 in Node 20 accepts; `Features.All` makes binaryen emit encodings V8 rejects.
  const features = F.MutableGlobals | F.NontrappingFPToInt | F.SIMD128 | F.BulkMemory | F.BulkMemoryOpt |
    F.SignExt | F.ReferenceTypes | F.Multivalue | F.CallIndirectOverlong;
  const finish = (mod: any): Uint8Array => {
    try {
      binaryen.setAlwaysInlineMaxSize(40);
      mod.runPasses(['inlining', 'vacuum']);
      if (!mod.validate()) throw new Error('binaryen produced an invalid module');
      return mod.emitBinary();
    } finally {
      mod.dispose();
    }
  };
  const mod = binaryen.readBinary(bytes);
  mod.setFeatures(features);
  const before = new Set<string>();
  for (let i = 0; i < mod.getNumFunctions(); i++) before.add(binaryen.getFunctionInfo(mod.getFunctionByIndex(i)).name);
  // A call $log_execution(id) at every function entry and loop header. The pass imports it from
  // the module of the first existing import ("env" when there is none), so find it as the new name.
  mod.runPasses(['log-execution']);
  let hook: string | null = null;
  let hookModule = 'env';
  const taken = new Set<string>();
  for (let i = 0; i < mod.getNumFunctions(); i++) {
    const info = binaryen.getFunctionInfo(mod.getFunctionByIndex(i));
    taken.add(info.name);
    if (!before.has(info.name) && info.base === 'log_execution') { hook = info.name; hookModule = info.module; }
  }
  for (let i = 0; i < mod.getNumGlobals(); i++) taken.add(binaryen.getGlobalInfo(mod.getGlobalByIndex(i)).name);
  if (!hook) { mod.dispose(); return bytes; } // no functions, nothing to meter
  let text = '';
  try { text = mod.emitText(); } catch { /* the fallback below does not need it */ }
  // Fresh names (`$<p>_…`) must not collide with any name in the module, labels and locals included.
  let p = '__gh';
  while ([...taken].some((n) => n.startsWith(p)) || text.includes(`$${p}`)) p += '_';
  const G = `${p}_fuel`;

  for (const bounded of [true, false]) {
    try {
      const out = binaryen.parseText(rewrite(text, { hook, hookModule, prefix: p, fuelExport, startFuel, batch, bounded, maxFreeTree }).text);
      out.setFeatures(features);
      const bin = finish(out);
      mod.dispose();
      return bin;
    } catch {
      // next attempt
    }
  }
  // Fallback: the same sites, each a plain decrement of the global (slower, always applicable).
  mod.addGlobal(G, binaryen.i32, true, mod.i32.const(startFuel | 0));
  mod.addGlobalExport(G, fuelExport);
  mod.removeFunction(hook);
  mod.addFunction(hook, binaryen.createType([binaryen.i32]), binaryen.none, [binaryen.i32], mod.block(null, [
    mod.global.set(G, mod.local.tee(1, mod.i32.sub(mod.global.get(G, binaryen.i32), mod.i32.const(1)), binaryen.i32)),
    mod.if(mod.i32.lt_s(mod.local.get(1, binaryen.i32), mod.i32.const(0)), mod.unreachable()),
  ]));
  return finish(mod);
}

// The helper is a child process, not a worker thread: binaryen's heap (over 100 MB) then goes back
// to the OS when the helper exits. As a thread it stayed in the gateway's resident memory
// (idle RSS 190 MB instead of 74 MB after loading one plugin).
const HELPER_SOURCE = `
const __name = (f) => f; // a TypeScript loader may wrap functions with it
const meter = ${meter.toString()};
const instrumentText = ${instrumentText.toString()};
const ready = import(process.env.GATEHOUSE_BINARYEN_URL).then((m) => m.default);
process.on('message', async ({ id, bytes, startFuel, fuelExport, batch, maxFreeTree }) => {
  try {
    const out = meter(await ready, bytes, startFuel, fuelExport, batch, maxFreeTree, instrumentText);
    process.send({ id, bytes: out });
  } catch (err) {
    process.send({ id, error: String(err && err.message || err) });
  }
});`;

interface Helper {
  worker: ChildProcess;
  pending: Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>;
  idle: NodeJS.Timeout | null;
}
let helper: Helper | null = null;
let nextId = 1;

function getHelper(): Helper {
  if (helper) return helper;
  const worker = spawn(process.execPath, ['--input-type=commonjs', '-e', HELPER_SOURCE], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: 'advanced',
    env: { ...process.env, GATEHOUSE_BINARYEN_URL: import.meta.resolve('binaryen'), NODE_OPTIONS: '' },
  });
  const h: Helper = { worker, pending: new Map(), idle: null };
  const failAll = (err: Error): void => {
    for (const p of h.pending.values()) p.reject(err);
    h.pending.clear();
    if (helper === h) helper = null;
  };
  worker.on('message', (m: { id: number; bytes?: Uint8Array; error?: string }) => {
    const p = h.pending.get(m.id);
    h.pending.delete(m.id);
    if (p) m.error !== undefined ? p.reject(new Error(m.error)) : p.resolve(m.bytes!);
    if (h.pending.size === 0) {
      unrefHelper(worker);
      h.idle = setTimeout(() => { if (helper === h && h.pending.size === 0) { helper = null; worker.kill(); } }, IDLE_MS);
      h.idle.unref();
    }
  });
  worker.on('error', failAll);
  worker.on('exit', () => failAll(new Error('metering worker exited')));
  helper = h;
  return h;
}

/** An idle helper must not keep the gateway (or a CLI command) alive. */
function unrefHelper(child: ChildProcess): void {
  child.unref();
  child.channel?.unref();
}

/** Bump when the instrumentation changes: cached rewrites of the old kind are then ignored. */
const METER_VERSION = 7;
const memo = new Map<string, Promise<Uint8Array>>();

/**
 * The metered module, from memory, from `cacheDir` (keyed by content hash, budget and
 * instrumentation version, so restarts skip the rewrite), or freshly made in the helper.
 */
export function meteredModule(bytes: Uint8Array, startFuel: number, cacheDir: string | null): Promise<Uint8Array> {
  const key = `${createHash('sha256').update(bytes).digest('hex')}-${startFuel}-${FUEL_BATCH}-v${METER_VERSION}`;
  let p = memo.get(key);
  if (!p) {
    p = (async () => {
      const file = cacheDir ? join(cacheDir, 'wasm', `metered-${key}.wasm`) : null;
      const cached = file ? await readFile(file).catch(() => null) : null;
      if (cached) return new Uint8Array(cached);
      const out = await injectFuel(bytes, startFuel);
      if (file) {
        // Best effort: a read-only cache directory only costs the rewrite next time.
        const tmp = `${file}.${process.pid}.tmp`;
        await mkdir(dirname(file), { recursive: true }).then(() => writeFile(tmp, out)).then(() => rename(tmp, file)).catch(() => undefined);
      }
      return out;
    })();
    p.catch(() => memo.delete(key));
    memo.set(key, p);
  }
  return p;
}

/** Returns the metered module; rejects when binaryen cannot read or validate the module. */
export function injectFuel(bytes: Uint8Array, startFuel: number): Promise<Uint8Array> {
  const h = getHelper();
  if (h.idle) { clearTimeout(h.idle); h.idle = null; }
  // Keep the process alive while a load waits for the rewrite.
  h.worker.ref();
  h.worker.channel?.ref();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    h.pending.set(id, { resolve, reject });
    h.worker.send({ id, bytes, startFuel, fuelExport: FUEL_EXPORT, batch: FUEL_BATCH, maxFreeTree: MAX_FREE_TREE });
  });
}
