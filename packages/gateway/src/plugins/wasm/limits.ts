/**
 * Every cap the WASM host enforces, as a named constant (proxy-wasm's limits.h habit), and the
 * resolution of an entry's `limits` against them. Figures behind the defaults: docs/wasm-host.md.
 */
import { availableParallelism } from 'node:os';

import type { PluginEntryConfig } from '../plugin.js';

export const WASM_PAGE = 65536;

/** Linear memory cap per instance. 64 MiB holds a few MB of JSON several times over. */
export const DEFAULT_MEMORY_MB = 64;
export const MAX_MEMORY_MB = 4096;

/**
 * Fuel per hook call (inline): one unit per function entry and loop iteration. A 1 KB hook call
 * uses ~5k (AssemblyScript) to ~7k (Rust) units, so 1e8 leaves room for multi-MB bodies while a
 * runaway loop traps after roughly 0.1-0.3 s of blocked event loop (measured, see the doc).
 */
export const DEFAULT_FUEL = 100_000_000;
/** `_start` / `_initialize` / `init` get a larger budget: runtimes set up heaps and parse config. */
export const INIT_FUEL_FACTOR = 10;
/** The exported i32 global that holds the remaining fuel (added by meter.ts). */
export const FUEL_EXPORT = '__gatehouse_fuel';
/** Loop iterations a function activation counts locally before it charges the global fuel. */
export const FUEL_BATCH = 32;
/** The fuel counter is an i32 global. */
export const MAX_FUEL = 0x7fffffff;

/** Wall-clock deadline per hook call in `worker` isolation (the worker is terminated past it). */
export const DEFAULT_TIMEOUT_MS = 1000;
/** How long a fresh worker may take to instantiate and run `init`. */
export const WORKER_START_TIMEOUT_MS = 10_000;
/**
 * Workers per plugin unless `instances` says otherwise: one per CPU the event loop leaves free, at
 * most 2. More workers than free CPUs add no throughput, only ~15 MB each (a V8 isolate).
 */
export const DEFAULT_WORKER_INSTANCES = Math.min(2, Math.max(1, availableParallelism() - 1));
export const MAX_WORKER_INSTANCES = 64;
/** Shared buffer per worker for hook input/output; larger payloads go through a MessagePort. */
export const WORKER_CHANNEL_BYTES = 1 << 20;
/**
 * A worker's JS heap only holds the host loop and short-lived views (the guest's memory is outside
 * it), so a small young generation is enough; V8's default let each of 3 workers keep tens of MB of
 * garbage resident under load.
 */
export const WORKER_HEAP_LIMITS = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 };
/**
 * Calls waiting for a free worker, per worker, before new calls are refused (a 503 for the
 * request, whatever `on_error` says: a guard is never skipped because it is busy).
 */
export const WORKER_QUEUE_PER_INSTANCE = 256;
/**
 * A call that finds the pool otherwise idle polls for the answer this long before parking on
 * Atomics.waitAsync. Measured on this 2-vCPU VM: waking a parked event loop from the worker costs
 * ~55 µs (an idle vCPU's wake-up), so an idle-pool call took 80-100 µs median parked and ~20 µs
 * polling. Under load other calls are in flight, the poll is skipped and no CPU is burnt on it.
 */
export const WORKER_SPIN_NS = 60_000n;

/** An instance whose memory passes this share of its cap is rebuilt between calls. */
export const HIGH_WATER_RATIO = 0.75;

/** Failures within the window that mark a plugin unhealthy; then rebuild with backoff. */
export const FAILURE_THRESHOLD = 5;
export const FAILURE_WINDOW_MS = 10_000;
export const BACKOFF_INITIAL_MS = 1000;
export const BACKOFF_MAX_MS = 60_000;

/** Remote `path`: bounded download. */
export const DOWNLOAD_TIMEOUT_MS = 30_000;
export const DOWNLOAD_MAX_BYTES = 64 << 20;
export const DOWNLOAD_MAX_REDIRECTS = 5;

/** Printed output: a longer line is cut; lines kept for an `init` failure message. */
export const LOG_LINE_MAX = 4096;
export const LOG_LINES_KEPT = 20;
/** What a plugin may print per hook call, and per second for all its instances (output-budget.ts). */
export const OUTPUT_CALL_BYTES = 16 * 1024;
export const OUTPUT_SECOND_BYTES = 64 * 1024;
/** A log line's own weight, charged on top of its characters. */
export const OUTPUT_LINE_COST = 64;

export interface ResolvedLimits {
  memoryPages: number;
  /** 0 = no metering injected. */
  fuel: number;
  timeoutMs: number;
  /** How long a call may wait for a free worker (default: timeoutMs). */
  queueTimeoutMs: number;
  highWaterBytes: number;
  isolation: 'inline' | 'worker';
  instances: number;
}

export function resolveLimits(entry: PluginEntryConfig): ResolvedLimits {
  const l = entry.limits ?? {};
  const isolation = entry.isolation === 'worker' ? 'worker' : 'inline';
  const mb = positive(l.memory_mb, 'limits.memory_mb', entry.name) ?? DEFAULT_MEMORY_MB;
  if (mb > MAX_MEMORY_MB) throw new Error(`wasm plugin "${entry.name}": limits.memory_mb ${mb} is above the maximum ${MAX_MEMORY_MB}`);
  const memoryPages = Math.max(1, Math.floor((mb * 1024 * 1024) / WASM_PAGE));
  // Inline plugins always get fuel: it is the only way to stop a loop on the event loop.
  // Worker plugins are stopped by their deadline; fuel there only when asked for.
  const fuelCfg = l.fuel === undefined ? undefined : l.fuel === 0 ? 0 : positive(l.fuel, 'limits.fuel', entry.name);
  const fuel = fuelCfg ?? (isolation === 'inline' ? DEFAULT_FUEL : 0);
  if (isolation === 'inline' && fuel === 0) {
    throw new Error(`wasm plugin "${entry.name}": limits.fuel 0 (no metering) needs "isolation": "worker"`);
  }
  const timeoutMs = positive(l.timeout_ms, 'limits.timeout_ms', entry.name) ?? DEFAULT_TIMEOUT_MS;
  const n = entry.instances ?? DEFAULT_WORKER_INSTANCES;
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKER_INSTANCES) {
    throw new Error(`wasm plugin "${entry.name}": instances must be an integer 1..${MAX_WORKER_INSTANCES}, got ${n}`);
  }
  if (fuel > MAX_FUEL) throw new Error(`wasm plugin "${entry.name}": limits.fuel ${fuel} is above the maximum ${MAX_FUEL}`);
  return {
    memoryPages,
    fuel: Math.floor(fuel),
    timeoutMs,
    queueTimeoutMs: positive(l.queue_timeout_ms, 'limits.queue_timeout_ms', entry.name) ?? timeoutMs,
    highWaterBytes: Math.floor(memoryPages * WASM_PAGE * HIGH_WATER_RATIO),
    isolation,
    instances: n,
  };
}

function positive(v: unknown, what: string, name: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new Error(`wasm plugin "${name}": ${what} must be a positive number, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Pages a guest may grow past its cap before memory.grow is really refused: a grow that lands there
 * succeeds, and the host fails the call afterwards (memory above the cap), as wasmtime's
 * `trap_on_grow_failure` would. One eighth of the cap bounds the overshoot; a single grow that
 * would jump further is refused by the engine as before (and usually traps the guest).
 */
export function growSlackPages(capPages: number): number {
  return Math.max(1, Math.ceil(capPages / 8));
}
