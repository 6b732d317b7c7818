/**
 * Who runs the guest: the inline runner (one instance on the event loop, stopped by fuel) or the
 * worker pool (worker/pool.ts). Both keep the same promises: a failed instance is discarded and
 * rebuilt (with `init`) before its next call; repeated failures mark the plugin unhealthy and
 * rebuilds wait for a growing backoff.
 */
import type { PluginLogger } from '../plugin.js';
import { GuestFailure, GuestInstance, type InstanceOptions } from './instance.js';
import { BACKOFF_INITIAL_MS, BACKOFF_MAX_MS, FAILURE_THRESHOLD, FAILURE_WINDOW_MS } from './limits.js';
import type { AbiShape } from './validate.js';

export interface Runner {
  /**
   * Runs `hook` with the JSON text `input`; `parse` checks the output inside the runner's failure
   * handling (bad JSON or shape discards the instance like a trap). Sync when inline.
   */
  call<T>(hook: string, input: string, parse: (out: string | null) => T): T | Promise<T>;
  isHealthy(): boolean;
  cleanup(): Promise<void>;
  /** Bytes of linear memory of the current instance (inline only; tools, not the request path). */
  memoryBytes?(): number | null;
  /** Whether the current instance's `malloc` returned address 0 (inline only; tools). */
  mallocReturnedZero?(): boolean;
}

/** Failure bookkeeping: FAILURE_THRESHOLD failures within FAILURE_WINDOW_MS trip it. */
export class Health {
  private failures: number[] = [];
  private until = 0;
  private backoff = BACKOFF_INITIAL_MS;

  constructor(private readonly name: string, private readonly log: PluginLogger) {}

  get healthy(): boolean {
    return this.until === 0 || Date.now() >= this.until;
  }

  /** Milliseconds until the backoff ends (0 when healthy). */
  get waitMs(): number {
    return Math.max(0, this.until - Date.now());
  }

  failure(reason: string): void {
    const now = Date.now();
    this.failures.push(now);
    while (this.failures.length > 0 && now - this.failures[0]! > FAILURE_WINDOW_MS) this.failures.shift();
    if (this.failures.length >= FAILURE_THRESHOLD) {
      this.until = now + this.backoff;
      this.log.error({ plugin: this.name, failures: this.failures.length, backoff_ms: this.backoff, reason }, 'wasm plugin marked unhealthy');
      this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
      this.failures = [];
    }
  }

  success(): void {
    if (this.until !== 0 && Date.now() >= this.until) {
      this.until = 0;
      this.backoff = BACKOFF_INITIAL_MS;
      this.log.info({ plugin: this.name }, 'wasm plugin healthy again');
    }
  }
}

export class UnhealthyError extends Error {
  constructor(readonly waitMs: number) {
    super(`unhealthy after repeated failures; next attempt in ${Math.ceil(waitMs)} ms`);
    this.name = 'UnhealthyError';
  }
}

/**
 * Builds (instantiate + `_start`/`_initialize` + `init`) are synchronous on the event loop: the next
 * one waits this many times the last one's duration, so rebuilds take at most 1/(1+N) of the loop
 * (5%) however often a plugin traps. A plugin whose `init` takes 1.5 s gets a new instance every
 * 30 s at most, and wants `isolation: "worker"`.
 */
export const BUILD_SPACING_FACTOR = 19;
/**
 * A module whose start-up used at most this much fuel (about a millisecond of guest work) may
 * still be rebuilt inside a call when a failure finds no spare left: cheaper than refusing the
 * call. Fuel, not time, so the rule does not change with the machine's load. A costlier `init` is
 * never run on the request path after a failure.
 */
export const SYNC_BUILD_MAX_FUEL = 1_000_000;

/**
 * One instance on the event loop, plus a spare built ahead of need: a call never runs `init`.
 * After a failure the spare takes over at once and the next spare is built later, off the request
 * path (a timer, spaced by BUILD_SPACING_FACTOR). Before, a trap's rebuild ran `init` on the event
 * loop inside the next request (a 1.5 s stall per trap for a plugin with a slow `init`).
 * A call that finds no instance at all (both used up faster than they can be rebuilt) is refused
 * as a failure of the plugin (its `on_error` applies) rather than waiting for a build.
 */
export class InlineRunner implements Runner {
  private inst: GuestInstance | null = null;
  private spare: GuestInstance | null = null;
  private buildTimer: NodeJS.Timeout | null = null;
  /** performance.now() before which no build starts. */
  private nextBuildAt = 0;
  private startUpFuel = Infinity;
  private closed = false;
  readonly health: Health;

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly shape: AbiShape,
    private readonly opts: InstanceOptions,
    private readonly log: PluginLogger,
  ) {
    this.health = new Health(opts.name, log);
  }

  /** Load-time canary: the first instance must start, or the load fails. The spare is built with it. */
  start(): GuestInstance {
    this.inst = this.build();
    this.spare = GuestInstance.create(this.module, this.shape, this.opts);
    return this.inst;
  }

  call<T>(hook: string, input: string, parse: (out: string | null) => T): T {
    if (!this.health.healthy) throw new UnhealthyError(this.health.waitMs);
    if (this.closed) throw new GuestFailure('plugin was unloaded');
    const inst = this.inst ?? this.promoteSpare() ?? (this.startUpFuel <= SYNC_BUILD_MAX_FUEL ? this.buildNow() : null);
    if (!inst) {
      // Not a new failure of the plugin (health is not charged again), but the hook did not run.
      throw new GuestFailure('no instance ready: the last ones failed and the next is still being built (off the request path)');
    }
    let result: T;
    try {
      result = parse(inst.hookText(hook, input));
    } catch (err) {
      // Whatever state the guest is in now cannot be trusted: drop it, the spare takes over.
      this.discard();
      this.health.failure((err as Error).message);
      throw err;
    }
    if (inst.overHighWater) {
      this.log.debug({ plugin: this.opts.name, memory_bytes: inst.abi.memory.byteLength }, 'wasm instance passed its memory high-water mark; recycling');
      // Not a failure: the instance still works. Without a spare ready it is replaced at once.
      this.discard();
      if (!this.inst) {
        try { this.buildNow(); } catch { /* counted by buildNow; this call's answer stands */ }
      }
    }
    this.health.success();
    return result;
  }

  isHealthy(): boolean {
    return this.health.healthy;
  }

  memoryBytes(): number | null {
    return this.inst ? this.inst.abi.memory.byteLength : null;
  }

  mallocReturnedZero(): boolean {
    return this.inst?.abi.mallocReturnedZero ?? false;
  }

  async cleanup(): Promise<void> {
    this.closed = true;
    if (this.buildTimer) clearTimeout(this.buildTimer);
    this.buildTimer = null;
    const inst = this.inst;
    this.inst = null;
    this.spare?.dispose();
    this.spare = null;
    if (!inst) return;
    try {
      const rc = inst.cleanup();
      if (rc !== 0) this.log.warn({ plugin: this.opts.name, code: rc }, 'wasm plugin cleanup returned non-zero');
    } catch (err) {
      this.log.warn({ plugin: this.opts.name, err: (err as Error).message }, 'wasm plugin cleanup failed');
    }
  }

  private buildNow(): GuestInstance {
    try {
      return (this.inst = this.build());
    } catch (err) {
      this.health.failure((err as Error).message);
      throw err;
    }
  }

  private promoteSpare(): GuestInstance | null {
    const s = this.spare;
    if (!s) return null;
    this.inst = s;
    this.spare = null;
    this.scheduleBuild();
    return s;
  }

  private discard(): void {
    this.inst?.dispose();
    this.inst = null;
    this.promoteSpare();
    this.scheduleBuild();
  }

  /** Instantiates and initialises one instance, timing it for the spacing rule. */
  private build(): GuestInstance {
    const t0 = performance.now();
    try {
      const inst = GuestInstance.create(this.module, this.shape, this.opts);
      this.startUpFuel = inst.startUpFuel;
      return inst;
    } finally {
      const t1 = performance.now();
      this.nextBuildAt = t1 + (t1 - t0) * BUILD_SPACING_FACTOR;
    }
  }

  private scheduleBuild(): void {
    if (this.buildTimer || this.closed || (this.inst && this.spare)) return;
    const t = setTimeout(() => {
      this.buildTimer = null;
      if (this.closed || (this.inst && this.spare)) return;
      try {
        const fresh = this.build();
        if (this.inst) this.spare = fresh;
        else this.inst = fresh;
      } catch (err) {
        this.health.failure((err as Error).message);
        this.log.warn({ plugin: this.opts.name, err: (err as Error).message }, 'wasm plugin rebuild failed');
        // A module whose start-up fails waits at least the health backoff before the next try.
        this.nextBuildAt = Math.max(this.nextBuildAt, performance.now() + Math.max(this.health.waitMs, 100));
      }
      this.scheduleBuild();
    }, Math.max(0, this.nextBuildAt - performance.now()));
    t.unref();
    this.buildTimer = t;
  }
}
