/**
 * The WASM plugin host: a config entry in, a Plugin out.
 * bytes (load.ts) -> contract check (validate.ts) -> memory cap (binary.ts) and fuel (meter.ts)
 * -> compile once -> a first instance that must start and `init` (the canary) -> the Plugin (host.ts).
 * Every load error names the plugin and what is wrong; nothing half-loaded is returned.
 */
import type { PluginEntryConfig, PluginLoadOptions, PluginLoader } from '../plugin.js';
import { capMemory, parseModule, WasmFormatError } from './binary.js';
import { createWasmPlugin, type WasmPlugin } from './host.js';
import type { InstanceOptions } from './instance.js';
import { growSlackPages, INIT_FUEL_FACTOR, MAX_FUEL, resolveLimits, WASM_PAGE } from './limits.js';
import { loadPluginBytes } from './load.js';
import { meteredModule } from './meter.js';
import { droppedBytes, outputCounters } from './output-budget.js';
import { InlineRunner, type Runner } from './runner.js';
import { checkModule } from './validate.js';
import { WorkerPool } from './worker/pool.js';

export { inspectWasm, type Inspection } from './validate.js';
export { WasmPluginError } from './errors.js';
export type { WasmPlugin } from './host.js';

export const loadWasmPlugin: PluginLoader = (entry, opts) => loadWasm(entry, opts);

export async function loadWasm(entry: PluginEntryConfig, opts: PluginLoadOptions): Promise<WasmPlugin> {
  const name = entry.name;
  const limits = resolveLimits(entry);
  const { bytes, sha256, source } = await loadPluginBytes(entry, opts);

  const bad = (why: string): Error => new Error(`wasm plugin "${name}" (${source}): ${why}`);
  let info;
  try {
    info = parseModule(bytes);
  } catch (err) {
    throw bad(err instanceof WasmFormatError ? err.message : `cannot read module: ${(err as Error).message}`);
  }
  const { shape, problems } = checkModule(info);
  if (!shape) throw bad(problems.join('; '));

  let runBytes: Uint8Array;
  try {
    runBytes = capMemory(bytes, info, limits.memoryPages, growSlackPages(limits.memoryPages));
    if (limits.fuel > 0) runBytes = await meteredModule(runBytes, Math.min(MAX_FUEL, limits.fuel * INIT_FUEL_FACTOR), opts.cacheDir || null);
  } catch (err) {
    throw bad(err instanceof WasmFormatError ? err.message : `cannot instrument module: ${(err as Error).message}`);
  }
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(runBytes as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw bad(`does not compile: ${(err as Error).message}`);
  }

  const instanceOpts: InstanceOptions = {
    name,
    // No config: `init` gets length 0, as in Bifrost (not `{}`).
    configJson: entry.config === undefined ? '' : JSON.stringify(entry.config),
    fuel: limits.fuel,
    memoryCapBytes: limits.memoryPages * WASM_PAGE,
    highWaterBytes: limits.highWaterBytes,
    outputCounters: outputCounters(),
    print: (stream, line) => (stream === 'stderr' ? opts.log.warn : opts.log.info).call(opts.log, { plugin: name, stream }, line),
  };

  let runner: Runner;
  let reportedName: string | null;
  try {
    if (limits.isolation === 'inline') {
      const inline = new InlineRunner(module, shape, instanceOpts, opts.log);
      reportedName = inline.start().reportedName;
      runner = inline;
    } else {
      const pool = new WorkerPool(module, shape, instanceOpts, limits, opts.log);
      reportedName = await pool.start();
      runner = pool;
    }
  } catch (err) {
    throw bad((err as Error).message);
  }

  opts.log.info({
    plugin: name, reported_name: reportedName, sha256, isolation: limits.isolation, hooks: shape.hooks,
    memory_mb: (limits.memoryPages * WASM_PAGE) / 1048576, fuel: limits.fuel, timeout_ms: limits.timeoutMs,
  }, 'wasm plugin loaded');
  const counters = instanceOpts.outputCounters;
  return createWasmPlugin(name, reportedName, shape, runner, opts.log, () => droppedBytes(counters));
}
