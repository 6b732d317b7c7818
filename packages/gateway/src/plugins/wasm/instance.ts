/**
 * One live instance of a plugin module: instantiate with the host imports, run `_initialize` or
 * `_start` (a `proc_exit(0)` there is a normal return), `init(config)`, then serve hook calls with
 * a fresh fuel budget each. Any throw out of a call is turned into a one-line reason; the owner
 * (inline runner or worker) then discards this instance. Runs on the main thread or in a worker.
 */
import { GuestAbi } from './abi.js';
import { assemblyScriptImports, GuestAbort } from './imports/assemblyscript.js';
import { LineBuffer, ProcExit, wasiImports, type Stream } from './imports/wasi.js';
import { FUEL_EXPORT, INIT_FUEL_FACTOR, LOG_LINES_KEPT } from './limits.js';
import { AbiViolation } from './memory.js';
import { OutputBudget } from './output-budget.js';
import type { AbiShape } from './validate.js';

export interface InstanceOptions {
  /** The configured plugin name, for messages. */
  name: string;
  configJson: string;
  /** Fuel per call; 0 when the module is not metered. */
  fuel: number;
  memoryCapBytes: number;
  highWaterBytes: number;
  /** The plugin's shared output counters (output-budget.ts); one array for all its instances. */
  outputCounters: Int32Array;
  print(stream: Stream, line: string): void;
}

/** A call (or start-up) went wrong inside the guest; `reason` is one human line. */
export class GuestFailure extends Error {
  constructor(readonly reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'GuestFailure';
  }
}

const MAX_I32 = 0x7fffffff;

export class GuestInstance {
  readonly abi: GuestAbi;
  readonly reportedName: string | null;
  /** Fuel the start-up exports used (`_start`/`_initialize`, `init`, `get_name`): what a rebuild costs. */
  startUpFuel = 0;
  private readonly lines: LineBuffer;
  private readonly output: OutputBudget;
  /** The last lines the plugin printed, quoted when start-up fails. */
  private readonly recent: string[];
  private readonly fuelGlobal: WebAssembly.Global | null;

  private constructor(
    private readonly instance: WebAssembly.Instance,
    lines: LineBuffer,
    output: OutputBudget,
    recent: string[],
    private readonly shape: AbiShape,
    private readonly opts: InstanceOptions,
  ) {
    this.lines = lines;
    this.output = output;
    this.recent = recent;
    this.abi = new GuestAbi(instance.exports, shape);
    const g = instance.exports[FUEL_EXPORT];
    this.fuelGlobal = opts.fuel > 0 && g instanceof WebAssembly.Global ? g : null;
    this.startUp();
    this.reportedName = shape.getName ? this.guard('get_name', () => this.abi.getName()) : null;
  }

  /** Instantiates and initialises; throws a GuestFailure whose reason includes what the plugin printed. */
  static create(module: WebAssembly.Module, shape: AbiShape, opts: InstanceOptions): GuestInstance {
    let memory: WebAssembly.Memory | null = null;
    const recent: string[] = [];
    const output = new OutputBudget(opts.outputCounters);
    const lines = new LineBuffer((stream, line) => {
      recent.push(line);
      if (recent.length > LOG_LINES_KEPT) recent.shift();
      opts.print(stream, line);
    }, output);
    const io = {
      memory: () => {
        if (!memory) throw new Error('memory is not available before instantiation completes');
        return memory;
      },
      print: opts.print,
    };
    const imports: WebAssembly.Imports = {
      wasi_snapshot_preview1: wasiImports(io, lines),
      env: assemblyScriptImports(() => memory),
    };
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(module, imports);
    } catch (err) {
      throw new GuestFailure(`instantiation failed: ${describe(err, null, opts)}`, { cause: err });
    }
    memory = instance.exports.memory as WebAssembly.Memory;
    return new GuestInstance(instance, lines, output, recent, shape, opts);
  }

  /** Memory grew past the high-water mark: rebuild before the next call (stub-runtime leaks). */
  get overHighWater(): boolean {
    return this.abi.memory.byteLength > this.opts.highWaterBytes;
  }

  hookText(name: string, input: string): string | null {
    if (this.fuelGlobal) this.fuelGlobal.value = this.opts.fuel;
    this.output.beginCall();
    let out: string | null;
    try {
      out = this.abi.callText(name, input);
    } catch (err) {
      throw this.failure(err);
    }
    this.checkCap();
    return out;
  }

  hookBytes(name: string, input: Uint8Array, sink: (out: Uint8Array) => void): boolean {
    if (this.fuelGlobal) this.fuelGlobal.value = this.opts.fuel;
    this.output.beginCall();
    let changed: boolean;
    try {
      changed = this.abi.callBytes(name, input, sink);
    } catch (err) {
      throw this.failure(err);
    }
    this.checkCap();
    return changed;
  }

  /**
   * A call that grew memory past the cap failed, even if the guest then returned normally: its
   * grow would have been refused, so it lost data it meant to keep (the slack in binary.ts's
   * capMemory is what lets the host see it).
   */
  private checkCap(): void {
    if (this.abi.memory.byteLength <= this.opts.memoryCapBytes) return;
    this.lines.flush();
    throw new GuestFailure(`memory.grow past the limit of ${Math.round(this.opts.memoryCapBytes / 1048576 * 10) / 10} MiB (limits.memory_mb) was refused: the plugin hit its memory cap`);
  }

  /** `cleanup() -> i32`; returns the code (0 when the plugin has no cleanup). */
  cleanup(): number {
    if (!this.shape.cleanup) return 0;
    const rc = this.guard('cleanup', () => this.abi.fn('cleanup')() as number);
    this.lines.flush();
    return rc;
  }

  dispose(): void {
    this.lines.flush();
  }

  private startUp(): void {
    const { shape, opts } = this;
    if (shape.start) {
      this.guard(shape.start, () => {
        try {
          this.abi.fn(shape.start!)();
        } catch (err) {
          if (!(err instanceof ProcExit && err.code === 0)) throw err;
        }
      });
    }
    if (shape.init) {
      const rc = this.guard('init', () => this.abi.callInit(opts.configJson));
      if (rc !== 0) {
        this.lines.flush();
        const printed = this.recent.length ? `; plugin output: ${this.recent.join(' | ')}` : '';
        throw new GuestFailure(`init returned ${rc} (expected 0)${printed}`);
      }
    }
  }

  /** Runs a lifecycle export with the larger start-up fuel budget, mapping throws to a reason. */
  private guard<T>(what: string, f: () => T): T {
    const budget = Math.min(MAX_I32, this.opts.fuel * INIT_FUEL_FACTOR);
    if (this.fuelGlobal) this.fuelGlobal.value = budget;
    this.output.beginCall();
    let out: T;
    try {
      out = f();
      if (this.fuelGlobal) this.startUpFuel += budget - (this.fuelGlobal.value as number);
    } catch (err) {
      this.lines.flush();
      const printed = this.recent.length ? `; plugin output: ${this.recent.join(' | ')}` : '';
      throw new GuestFailure(`${what} failed: ${describe(err, this, this.opts)}${printed}`, { cause: err });
    }
    try {
      this.checkCap();
    } catch (err) {
      throw new GuestFailure(`${what} failed: ${(err as GuestFailure).reason}`);
    }
    return out;
  }

  private failure(err: unknown): GuestFailure {
    this.lines.flush();
    return new GuestFailure(describe(err, this, this.opts), { cause: err });
  }

  /** @internal for describe() */
  fuelLeft(): number | null {
    return this.fuelGlobal ? (this.fuelGlobal.value as number) : null;
  }
}

/** One line saying why the guest stopped. Fuel and the memory cap are named as the cause when they are. */
function describe(err: unknown, inst: GuestInstance | null, opts: InstanceOptions): string {
  if (err instanceof GuestAbort) return `abort: ${err.text}`;
  if (err instanceof ProcExit) return `proc_exit(${err.code}) called`;
  if (err instanceof AbiViolation) return err.message;
  if (err instanceof GuestFailure) return err.reason;
  const fuel = inst?.fuelLeft();
  if (fuel !== null && fuel !== undefined && fuel < 0) {
    return `fuel exhausted (limit ${opts.fuel} per call; limits.fuel)`;
  }
  if (err instanceof RangeError && /call stack/i.test(err.message)) return 'stack overflow (call stack exhausted)';
  const msg = err instanceof Error ? `${err.constructor === WebAssembly.RuntimeError ? 'trap' : err.name}: ${err.message}` : String(err);
  // memory.grow past the cap returns -1 and the guest then traps its own way; memory close to the
  // cap (past the high-water mark) is the best sign that this is what happened.
  if (inst && inst.abi.memory.byteLength > opts.highWaterBytes) {
    return `${msg} (memory near its limit of ${Math.round(opts.memoryCapBytes / 1048576)} MiB; limits.memory_mb)`;
  }
  return msg;
}
