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

export class InlineRunner implements Runner {
  private inst: GuestInstance | null = null;
  private rebuildScheduled = false;
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

  /** Load-time canary: the first instance must start, or the load fails. */
  start(): GuestInstance {
    this.inst = GuestInstance.create(this.module, this.shape, this.opts);
    return this.inst;
  }

  call<T>(hook: string, input: string, parse: (out: string | null) => T): T {
    if (!this.health.healthy) throw new UnhealthyError(this.health.waitMs);
    if (this.closed) throw new GuestFailure('plugin was unloaded');
    let inst = this.inst;
    if (!inst) {
      try {
        inst = this.inst = GuestInstance.create(this.module, this.shape, this.opts);
      } catch (err) {
        this.health.failure((err as Error).message);
        throw err;
      }
    }
    let result: T;
    try {
      result = parse(inst.hookText(hook, input));
    } catch (err) {
      // Whatever state the guest is in now cannot be trusted: drop it, rebuild off the request path.
      this.discard();
      this.health.failure((err as Error).message);
      throw err;
    }
    if (inst.overHighWater) {
      this.log.debug({ plugin: this.opts.name, memory_bytes: inst.abi.memory.byteLength }, 'wasm instance passed its memory high-water mark; recycling');
      this.discard();
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

  async cleanup(): Promise<void> {
    this.closed = true;
    const inst = this.inst;
    this.inst = null;
    if (!inst) return;
    try {
      const rc = inst.cleanup();
      if (rc !== 0) this.log.warn({ plugin: this.opts.name, code: rc }, 'wasm plugin cleanup returned non-zero');
    } catch (err) {
      this.log.warn({ plugin: this.opts.name, err: (err as Error).message }, 'wasm plugin cleanup failed');
    }
  }

  private discard(): void {
    this.inst?.dispose();
    this.inst = null;
    if (this.rebuildScheduled || this.closed) return;
    this.rebuildScheduled = true;
    // Rebuild between requests; if a call comes first it rebuilds synchronously.
    const t = setTimeout(() => {
      this.rebuildScheduled = false;
      if (this.inst || this.closed || !this.health.healthy) return;
      try {
        this.inst = GuestInstance.create(this.module, this.shape, this.opts);
      } catch (err) {
        this.health.failure((err as Error).message);
        this.log.warn({ plugin: this.opts.name, err: (err as Error).message }, 'wasm plugin rebuild failed');
      }
    }, 0);
    t.unref();
  }
}
