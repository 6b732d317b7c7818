/**
 * Fuel metering, injected at load time with binaryen: a synchronous wasm call on the event loop
 * cannot be interrupted from JavaScript, so the module must stop itself. binaryen's
 * `log-execution` pass puts `call $log_execution(id)` at every function entry and loop header;
 * we replace that import with an internal function that decrements an exported global and traps
 * below zero, then inline it so the check costs a few instructions, not a call into JS.
 * The host writes the budget into the global before each call and reads it back after a trap to
 * tell "fuel exhausted" from the plugin's own `unreachable`.
 */
import binaryen from 'binaryen';

import { FUEL_EXPORT } from './limits.js';

/** Features V8 in Node 20 accepts; `Features.All` makes binaryen emit encodings V8 rejects. */
const FEATURES =
  binaryen.Features.MutableGlobals | binaryen.Features.NontrappingFPToInt | binaryen.Features.SIMD128 |
  binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt | binaryen.Features.SignExt |
  binaryen.Features.ReferenceTypes | binaryen.Features.Multivalue | binaryen.Features.CallIndirectOverlong;

/**
 * Returns the metered module. `startFuel` is the global's initial value: the module's own start
 * function runs during instantiation, before the host can set a budget.
 * Throws when binaryen cannot read or validate the module.
 */
export function injectFuel(bytes: Uint8Array, startFuel: number): Uint8Array {
  const mod = binaryen.readBinary(bytes);
  try {
    mod.setFeatures(FEATURES);
    mod.runPasses(['log-execution']);
    // Find the import the pass added (its internal name may be uniquified).
    let hookName: string | null = null;
    for (let i = 0; i < mod.getNumFunctions(); i++) {
      const info = binaryen.getFunctionInfo(mod.getFunctionByIndex(i));
      if (info.module === 'env' && info.base === 'log_execution') hookName = info.name;
    }
    if (!hookName) return bytes; // nothing to meter (no functions)
    const g = uniqueGlobal(mod, '__gatehouse_fuel_g');
    mod.addGlobal(g, binaryen.i32, true, mod.i32.const(startFuel | 0));
    mod.addGlobalExport(g, FUEL_EXPORT);
    mod.removeFunction(hookName);
    // (func $hook (param i32) (global.set $g (i32.sub (global.get $g) 1)) (if (i32.lt_s (global.get $g) 0) unreachable))
    mod.addFunction(hookName, binaryen.createType([binaryen.i32]), binaryen.none, [], mod.block(null, [
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

function uniqueGlobal(mod: binaryen.Module, base: string): string {
  let name = base;
  for (let i = 1; globalExists(mod, name); i++) name = `${base}${i}`;
  return name;
}

function globalExists(mod: binaryen.Module, name: string): boolean {
  for (let i = 0; i < mod.getNumGlobals(); i++) {
    if (binaryen.getGlobalInfo(mod.getGlobalByIndex(i)).name === name) return true;
  }
  return false;
}
