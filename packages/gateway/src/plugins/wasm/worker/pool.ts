/**
 * `isolation: "worker"`: a pool of plugin workers, each with its own instance. A call past
 * `timeout_ms` terminates its worker (the only way to stop a wasm loop from outside); a new worker
 * takes its place (the next call waited 180-200 ms for its boot) and, from that first death on, one warm spare is kept so the
 * next replacement is immediate. A plugin that never fails never pays for the spare (an isolate:
 * the WASM-worker benchmark peaked 6-8 MiB lower, 137-138 against 142.5-146.8 MiB).
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

import type { PluginLogger } from '../../plugin.js';
import { GuestFailure, type InstanceOptions } from '../instance.js';
import { WORKER_CHANNEL_BYTES, WORKER_HEAP_LIMITS, WORKER_QUEUE_PER_INSTANCE, WORKER_SPIN_NS, WORKER_START_TIMEOUT_MS, type ResolvedLimits } from '../limits.js';
import { decodeUtf8 } from '../memory.js';
import { Health, UnhealthyError, type Runner } from '../runner.js';
import { HOOK_EXPORTS, type AbiShape } from '../validate.js';
import {
  CONTROL_WORDS, DEAD, DONE, HOOK, IN_LEN, OP, OP_CLEANUP, OP_HOOK, OUT_LEN, REBUILD_FIRST, REQUEST, ST_FAILURE, ST_OUTPUT, STATE, STATUS,
  VIA_PORT, type WorkerEvent, type WorkerInit,
} from './channel.js';

// The compiled .js entry in production. Running from sources (tests, through tsx), loader hooks
// registered with `--import tsx` do not reach a worker's entry in Node 20, so a tiny bootstrap
// imports the .ts entry through tsx's API.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY: URL | string = FROM_SOURCE
  ? `import('tsx/esm/api').then((m) => m.tsImport(${JSON.stringify(new URL('./worker-main.ts', import.meta.url).href)}, ${JSON.stringify(import.meta.url)}))`
  : new URL('./worker-main.js', import.meta.url);
const encoder = new TextEncoder();
// ES2024 API, present in Node 20's V8; not in the ES2022 lib this package compiles against.
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

/**
 * All workers busy and the queue full, or a queued call waited longer than `queue_timeout_ms` for
 * a worker: the call is refused. Not a plugin failure: the host answers 503 (GH_ERR_PLUGIN_BUSY)
 * whatever `on_error` says, so load never turns a fail_open guard into a skipped one.
 */
export class PoolBusyError extends Error {
  constructor(readonly queued: number, waitedMs?: number) {
    super(waitedMs === undefined
      ? `all plugin workers busy and ${queued} calls already queued`
      : `all plugin workers busy: no worker free within ${Math.round(waitedMs)} ms (limits.queue_timeout_ms)`);
    this.name = 'PoolBusyError';
  }
}

/** A call waiting for a worker. */
interface Waiter {
  take: (s: Slot) => void;
  refuse: (e: Error) => void;
  since: number;
}

/**
 * Polling only helps when the worker runs on another CPU: confined to one (taskset, a 1-CPU
 * container), the poll would only keep the worker from running.
 */
const POLL = availableParallelism() > 1;

/** Polls the channel for up to WORKER_SPIN_NS; the clock is read every 64 polls. */
function pollBriefly(ctl: Int32Array): void {
  const until = process.hrtime.bigint() + WORKER_SPIN_NS;
  for (let n = 1; Atomics.load(ctl, STATE) === REQUEST; n++) {
    if ((n & 63) === 0 && process.hrtime.bigint() > until) return;
  }
}

class Slot {
  readonly ctl = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  readonly data = new Uint8Array(new SharedArrayBuffer(WORKER_CHANNEL_BYTES));
  readonly port: MessagePort;
  readonly worker: Worker;
  readonly ready: Promise<string | null>;
  busy = false;
  dead = false;
  started = false;
  needsRebuild = false;
  /** An exchange is waiting for this worker's answer (the deadline timer only acts then). */
  inCall = false;
  timedOut = false;
  // One deadline timer per worker, re-armed per call with refresh(): no Timeout object per call.
  #deadline: NodeJS.Timeout | null = null;

  constructor(module: WebAssembly.Module, shape: AbiShape, opts: InstanceOptions, log: PluginLogger, private readonly onDeath: (s: Slot) => void) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const { print: _print, ...plain } = opts;
    const init: WorkerInit = { module, shape, opts: plain, control: this.ctl.buffer as SharedArrayBuffer, data: this.data.buffer as SharedArrayBuffer, port: port2 };
    this.worker = new Worker(ENTRY, { workerData: init, transferList: [port2], eval: FROM_SOURCE, resourceLimits: WORKER_HEAP_LIMITS });
    this.worker.unref(); // a pending call holds the process open through its deadline timer
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new GuestFailure(`worker did not start within ${WORKER_START_TIMEOUT_MS} ms`)), WORKER_START_TIMEOUT_MS);
      this.worker.on('message', (e: WorkerEvent) => {
        if (e.t === 'log') opts.print(e.stream, e.line);
        else if (e.t === 'ready') { clearTimeout(timer); this.started = true; resolve(e.reportedName); }
        else if (e.t === 'start-failed') { clearTimeout(timer); reject(new GuestFailure(e.reason)); this.kill(); }
        else if (e.t === 'recycled') log.debug({ plugin: opts.name, reason: e.reason }, 'wasm worker instance rebuilt');
      });
      this.worker.on('error', (err) => {
        clearTimeout(timer);
        if (this.started) log.error({ plugin: opts.name, err: err.message }, 'wasm plugin worker crashed');
        reject(new GuestFailure(`worker error: ${err.message}`));
        this.kill();
      });
      this.worker.on('exit', (code) => {
        clearTimeout(timer);
        if (!this.dead) log.warn({ plugin: opts.name, code }, 'wasm plugin worker exited unexpectedly');
        reject(new GuestFailure('worker exited during start-up'));
        this.kill();
      });
    });
    this.ready.catch(() => undefined);
  }

  /** Starts the deadline of the call under way; it keeps the process alive until disarmed. */
  arm(ms: number): void {
    this.inCall = true;
    this.timedOut = false;
    if (this.#deadline === null) {
      this.#deadline = setTimeout(() => {
        if (!this.inCall) return;
        this.timedOut = true;
        this.kill();
      }, ms);
    } else {
      this.#deadline.refresh();
      this.#deadline.ref();
    }
  }

  disarm(): void {
    this.inCall = false;
    this.#deadline?.unref();
  }

  /** Marks the slot dead and wakes a waiting call (waitAsync sees STATE change from REQUEST). */
  kill(): void {
    if (this.dead) return;
    this.dead = true;
    Atomics.store(this.ctl, STATE, DEAD);
    Atomics.notify(this.ctl, STATE);
    if (this.#deadline !== null) clearTimeout(this.#deadline);
    void this.worker.terminate();
    this.port.close();
    this.onDeath(this);
  }
}

export class WorkerPool implements Runner {
  private slots: Slot[] = [];
  private spare: Slot | null = null;
  private waiting: Waiter[] = [];
  private closed = false;
  /** Exchanges under way; the idle-pool poll only runs when a call is alone. */
  private inFlight = 0;
  readonly health: Health;

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly shape: AbiShape,
    private readonly opts: InstanceOptions,
    private readonly limits: ResolvedLimits,
    private readonly log: PluginLogger,
  ) {
    this.health = new Health(opts.name, log);
  }

  /** Starts every worker (no spare until one dies); the first start-up failure fails the load. */
  async start(): Promise<string | null> {
    for (let i = 0; i < this.limits.instances; i++) this.slots.push(this.spawn());
    try {
      const names = await Promise.all(this.slots.map((s) => s.ready));
      return names[0] ?? null;
    } catch (err) {
      await this.cleanup();
      throw err;
    }
  }

  call<T>(hook: string, input: string, parse: (out: string | null) => T): Promise<T> {
    if (!this.health.healthy) return Promise.reject(new UnhealthyError(this.health.waitMs));
    if (this.closed) return Promise.reject(new GuestFailure('plugin was unloaded'));
    const slot = this.slots.find((s) => !s.busy && !s.dead);
    if (slot) return this.run(slot, hook, input, parse);
    if (this.waiting.length >= this.slots.length * WORKER_QUEUE_PER_INSTANCE) {
      return Promise.reject(new PoolBusyError(this.waiting.length));
    }
    return new Promise<Slot>((take, refuse) => this.waiting.push({ take, refuse, since: performance.now() })).then((s) => this.run(s, hook, input, parse));
  }

  isHealthy(): boolean {
    return this.health.healthy;
  }

  async cleanup(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map(async (s) => {
      if (s.dead || s.busy) return;
      try {
        await this.exchange(s, OP_CLEANUP, 0, '');
      } catch (err) {
        this.log.warn({ plugin: this.opts.name, err: (err as Error).message }, 'wasm plugin cleanup failed');
      }
    }));
    for (const s of [...this.slots, ...(this.spare ? [this.spare] : [])]) s.kill();
    this.slots = [];
    this.spare = null;
  }

  private spawn(): Slot {
    return new Slot(this.module, this.shape, this.opts, this.log, (s) => this.died(s));
  }

  /** A worker died outside a call (a call's own `finally` handles the rest). */
  private died(s: Slot): void {
    if (this.closed) return;
    if (s === this.spare) {
      // Respawn only a spare that had started: one that cannot start would loop forever.
      this.spare = s.started ? this.spawn() : null;
    } else if (!s.busy) {
      this.release(s);
    }
  }

  private async run<T>(slot: Slot, hook: string, input: string, parse: (out: string | null) => T): Promise<T> {
    slot.busy = true;
    try {
      const out = await this.exchange(slot, OP_HOOK, HOOK_EXPORTS.indexOf(hook as (typeof HOOK_EXPORTS)[number]), input);
      const result = parse(out);
      this.health.success();
      return result;
    } catch (err) {
      if (!(err instanceof UnhealthyError)) this.health.failure((err as Error).message);
      // Bad output: the worker's instance may be corrupt; it rebuilds before its next call.
      if (!slot.dead) slot.needsRebuild = !(err instanceof GuestFailure) || slot.needsRebuild;
      throw err;
    } finally {
      slot.busy = false;
      this.release(slot);
    }
  }

  /** Hands a free slot to the next waiting call; replaces a dead slot with the spare. */
  private release(slot: Slot): void {
    let s = slot;
    if (slot.dead) {
      const i = this.slots.indexOf(slot);
      if (i < 0 || this.closed) return;
      s = this.spare && !this.spare.dead ? this.spare : this.spawn();
      this.slots[i] = s;
      const spare = (this.spare = this.spawn());
      spare.ready.catch((err: Error) => this.log.warn({ plugin: this.opts.name, err: err.message }, 'wasm spare worker failed to start'));
    }
    // A call that waited past queue_timeout_ms (default timeout_ms) is refused rather than run late: queued behind a plugin
    // that spins to its deadline on every call, the last of 256 would otherwise wait 256 deadlines.
    // Checked here, when a worker frees up, so queueing costs no timer; a call thus waits at most
    // about two deadlines (its own, then the end of the run under way) before it runs or is refused.
    let next = this.waiting.shift();
    const now = next ? performance.now() : 0;
    while (next && now - next.since > this.limits.queueTimeoutMs) {
      next.refuse(new PoolBusyError(this.waiting.length, now - next.since));
      next = this.waiting.shift();
    }
    if (next) {
      const take = next.take;
      // The slot stays busy until the waiter's run() ends: clearing it here, even for a microtask,
      // let another call take the same slot and two exchanges share one channel.
      s.busy = true;
      void s.ready.then(() => take(s), () => take(s));
    }
  }

  /** One round trip over the shared channel, bounded by the deadline. Resolves the output text or null. */
  private async exchange(slot: Slot, op: number, hookIndex: number, input: string): Promise<string | null> {
    if (!slot.started) await slot.ready;
    const { ctl, data } = slot;
    ctl[OP] = op;
    ctl[HOOK] = hookIndex;
    ctl[REBUILD_FIRST] = slot.needsRebuild ? 1 : 0;
    slot.needsRebuild = false;
    const { read, written } = encoder.encodeInto(input, data);
    if (read === input.length) ctl[IN_LEN] = written;
    else {
      slot.port.postMessage(input);
      ctl[IN_LEN] = VIA_PORT;
    }
    Atomics.store(ctl, STATE, REQUEST);
    Atomics.notify(ctl, STATE);

    let timedOut = false;
    this.inFlight++;
    try {
      if (POLL && this.inFlight === 1) pollBriefly(ctl);
      if (Atomics.load(ctl, STATE) === REQUEST) {
        slot.arm(this.limits.timeoutMs);
        try {
          // Re-check after every wake-up: like any futex wait, waitAsync can wake without our change
          // (seen under load: a resolved waiter while STATE was still REQUEST).
          while (Atomics.load(ctl, STATE) === REQUEST && !slot.dead) {
            const w = waitAsync(ctl, STATE, REQUEST);
            if (w.async) await w.value;
          }
        } finally {
          timedOut = slot.timedOut;
          slot.disarm();
        }
      }
    } finally {
      this.inFlight--;
    }

    if (timedOut) throw new GuestFailure(`deadline exceeded: no answer within ${this.limits.timeoutMs} ms (limits.timeout_ms); worker terminated`);
    if (slot.dead || Atomics.load(ctl, STATE) !== DONE) {
      slot.kill();
      throw new GuestFailure('worker exited during the call');
    }
    const status = ctl[STATUS]!;
    const len = ctl[OUT_LEN]!;
    let text: string | null = null;
    if (len === VIA_PORT) {
      const msg = receiveMessageOnPort(slot.port)?.message as Uint8Array | undefined;
      text = msg ? decodeUtf8(msg, 'output') : '';
    } else if (len > 0) {
      text = decodeUtf8(data.subarray(0, len), 'output');
    }
    if (status === ST_FAILURE) throw new GuestFailure(text ?? 'failed');
    return status === ST_OUTPUT ? text : null;
  }
}
