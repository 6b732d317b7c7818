/**
 * Fuel metering, injected at load time with binaryen: a synchronous wasm call on the event loop
 * cannot be interrupted from JavaScript, so the module must stop itself. binaryen's
 * `log-execution` pass puts `call $log_execution(id)` at every function entry and loop header;
 * we replace that import with an internal function that decrements an exported global and traps
 * below zero, then inline it so the check costs a few instructions, not a call into JS.
 * The host writes the budget into the global before each call and reads it back after a trap to
 * tell "fuel exhausted" from the plugin's own `unreachable`.
 *
 * binaryen runs in a helper worker thread, for three reasons: a rewrite takes 50-300 ms of CPU
 * that must not block a serving event loop (plugins can be reloaded live); binaryen's own heap
 * (~100 MB) goes away with the worker when idle; and the worker runs plain JavaScript with no
 * loader hooks (a TypeScript loader in dev/test takes 10 s to transform binaryen's 14 MB file).
 */
import { Worker } from 'node:worker_threads';

import { FUEL_EXPORT } from './limits.js';

/** The helper exits after this long without work. */
const IDLE_MS = 5000;

/**
 * Runs inside the helper worker, serialised with Function.prototype.toString: no imports, no
 * closures, plain JavaScript only.
 */
function meter(binaryen: any, bytes: Uint8Array, startFuel: number, fuelExport: string): Uint8Array {
  const F = binaryen.Features;
  // Features V8 in Node 20 accepts; `Features.All` makes binaryen emit encodings V8 rejects.
  const features = F.MutableGlobals | F.NontrappingFPToInt | F.SIMD128 | F.BulkMemory | F.BulkMemoryOpt |
    F.SignExt | F.ReferenceTypes | F.Multivalue | F.CallIndirectOverlong;
  const mod = binaryen.readBinary(bytes);
  try {
    mod.setFeatures(features);
    mod.runPasses(['log-execution']);
    let hook: string | null = null; // the import the pass added; its internal name may be uniquified
    for (let i = 0; i < mod.getNumFunctions(); i++) {
      const info = binaryen.getFunctionInfo(mod.getFunctionByIndex(i));
      if (info.module === 'env' && info.base === 'log_execution') hook = info.name;
    }
    if (!hook) return bytes; // no functions, nothing to meter
    let g = '__gatehouse_fuel_g';
    const taken = new Set<string>();
    for (let i = 0; i < mod.getNumGlobals(); i++) taken.add(binaryen.getGlobalInfo(mod.getGlobalByIndex(i)).name);
    while (taken.has(g)) g += '_';
    // Start-up code (a start function runs during instantiation) needs fuel before the host can set it.
    mod.addGlobal(g, binaryen.i32, true, mod.i32.const(startFuel | 0));
    mod.addGlobalExport(g, fuelExport);
    mod.removeFunction(hook);
    // (func $hook (param i32) (global.set $g (i32.sub (global.get $g) 1)) (if (i32.lt_s (global.get $g) 0) unreachable))
    mod.addFunction(hook, binaryen.createType([binaryen.i32]), binaryen.none, [], mod.block(null, [
      mod.global.set(g, mod.i32.sub(mod.global.get(g, binaryen.i32), mod.i32.const(1))),
      mod.if(mod.i32.lt_s(mod.global.get(g, binaryen.i32), mod.i32.const(0)), mod.unreachable()),
    ]));
    binaryen.setAlwaysInlineMaxSize(40);
    mod.runPasses(['inlining', 'vacuum']);
    if (!mod.validate()) throw new Error('binaryen produced an invalid module');
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const __name = (f) => f; // a TypeScript loader may wrap functions with it
const meter = ${meter.toString()};
const ready = import(workerData.binaryen).then((m) => m.default);
parentPort.on('message', async ({ id, bytes, startFuel, fuelExport }) => {
  try {
    const out = meter(await ready, bytes, startFuel, fuelExport);
    parentPort.postMessage({ id, bytes: out }, [out.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message || err) });
  }
});`;

interface Helper {
  worker: Worker;
  pending: Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>;
  idle: NodeJS.Timeout | null;
}
let helper: Helper | null = null;
let nextId = 1;

function getHelper(): Helper {
  if (helper) return helper;
  const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { binaryen: import.meta.resolve('binaryen') } });
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
      worker.unref();
      h.idle = setTimeout(() => { if (helper === h && h.pending.size === 0) { helper = null; void worker.terminate(); } }, IDLE_MS);
      h.idle.unref();
    }
  });
  worker.on('error', failAll);
  worker.on('exit', () => failAll(new Error('metering worker exited')));
  helper = h;
  return h;
}

/** Returns the metered module; rejects when binaryen cannot read or validate the module. */
export function injectFuel(bytes: Uint8Array, startFuel: number): Promise<Uint8Array> {
  const h = getHelper();
  if (h.idle) { clearTimeout(h.idle); h.idle = null; }
  h.worker.ref(); // keep the process alive while a load waits for the rewrite
  const id = nextId++;
  return new Promise((resolve, reject) => {
    h.pending.set(id, { resolve, reject });
    h.worker.postMessage({ id, bytes, startFuel, fuelExport: FUEL_EXPORT });
  });
}
