/**
 * The shared-memory channel between the main thread and one plugin worker. A call is: main writes
 * the input bytes into `data`, sets the header, stores REQUEST and notifies; the worker (blocked in
 * Atomics.wait) runs the hook, writes the output, stores DONE and notifies; main, awaiting
 * Atomics.waitAsync, wakes without ever blocking the event loop. Payloads larger than the shared
 * buffer travel through a MessagePort, read synchronously with receiveMessageOnPort on both sides.
 */
import type { MessagePort } from 'node:worker_threads';

import type { InstanceOptions } from '../instance.js';
import type { AbiShape } from '../validate.js';

/** Word indexes in the control Int32Array. */
export const STATE = 0;
export const OP = 1;
export const HOOK = 2;
export const IN_LEN = 3;
export const STATUS = 4;
export const OUT_LEN = 5;
export const REBUILD_FIRST = 6;
export const CONTROL_WORDS = 8;

/** STATE values. */
export const IDLE = 0;
export const REQUEST = 1;
export const DONE = 2;
export const DEAD = 3;

/** OP values. */
export const OP_HOOK = 0;
export const OP_CLEANUP = 1;

/** STATUS values. */
export const ST_OUTPUT = 0;
export const ST_NO_CHANGE = 1;
export const ST_FAILURE = 2;

/** A length of -1 means "the bytes are in the next MessagePort message". */
export const VIA_PORT = -1;

export interface WorkerInit {
  module: WebAssembly.Module;
  shape: AbiShape;
  opts: Omit<InstanceOptions, 'print'>;
  control: SharedArrayBuffer;
  data: SharedArrayBuffer;
  port: MessagePort;
}

/** Posted by the worker on its parentPort (never on the data port). */
export type WorkerEvent =
  | { t: 'log'; stream: 'stdout' | 'stderr'; line: string }
  | { t: 'ready'; reportedName: string | null }
  | { t: 'start-failed'; reason: string }
  | { t: 'recycled'; reason: string };
