/**
 * How much a plugin may print (WASI fd_write to stdout/stderr, which becomes log lines): at most
 * OUTPUT_CALL_BYTES per hook call and OUTPUT_SECOND_BYTES per second for the whole plugin (all
 * its instances, worker threads included), each line costing OUTPUT_LINE_COST on top of its bytes
 * (a log record's own weight: a megabyte of newlines is a million records). What is over is
 * dropped unread and counted; /health shows the count. Without it, one fd_write of 1 MiB of
 * newlines per call wrote 201 MiB of log and stalled the gateway.
 *
 * The per-second window and the dropped count live in a small shared Int32Array, so the worker
 * threads of one plugin draw on the same budget and nothing is allocated per write.
 */
import { OUTPUT_CALL_BYTES, OUTPUT_LINE_COST, OUTPUT_SECOND_BYTES } from './limits.js';

const WINDOW = 0;
const USED = 1;
const DROPPED = 2;
export const OUTPUT_COUNTER_WORDS = 4;

export function outputCounters(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(OUTPUT_COUNTER_WORDS * 4));
}

/** Bytes dropped so far for the plugin owning `counters`. */
export function droppedBytes(counters: Int32Array): number {
  return Atomics.load(counters, DROPPED) >>> 0;
}

export class OutputBudget {
  #call = 0;

  constructor(private readonly counters: Int32Array) {}

  /** A new hook call (or lifecycle export) starts with a full per-call allowance. */
  beginCall(): void {
    this.#call = 0;
  }

  /** Of `n` bytes written, how many may be looked at (the rest is counted as dropped). */
  admitBytes(n: number): number {
    const room = Math.max(0, Math.min(OUTPUT_CALL_BYTES - this.#call, OUTPUT_SECOND_BYTES - this.#usedThisSecond()));
    if (n <= room) return n;
    this.drop(n - room);
    return room;
  }

  /** One line of `len` characters about to be logged: charged, or refused (and counted) when over. */
  admitLine(len: number): boolean {
    const cost = len + OUTPUT_LINE_COST;
    if (this.#call + cost > OUTPUT_CALL_BYTES || this.#usedThisSecond() + cost > OUTPUT_SECOND_BYTES) {
      this.drop(len + 1);
      return false;
    }
    this.#call += cost;
    Atomics.add(this.counters, USED, cost);
    return true;
  }

  drop(n: number): void {
    Atomics.add(this.counters, DROPPED, n);
  }

  #usedThisSecond(): number {
    const now = Math.floor(Date.now() / 1000) | 0;
    const c = this.counters;
    const w = Atomics.load(c, WINDOW);
    if (w !== now && Atomics.compareExchange(c, WINDOW, w, now) === w) Atomics.store(c, USED, 0);
    return Atomics.load(c, USED);
  }
}
