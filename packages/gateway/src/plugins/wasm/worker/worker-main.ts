/**
 * Inside a plugin worker: one GuestInstance, a loop blocked in Atomics.wait for the next request.
 * The loop is synchronous on purpose (no event loop turn per call); `worker.terminate()` from the
 * main thread still interrupts it, and a runaway wasm loop, at any point.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';

import { GuestInstance } from '../instance.js';
import { HOOK_EXPORTS } from '../validate.js';
import {
  DONE, HOOK, IN_LEN, OP, OP_CLEANUP, OUT_LEN, REBUILD_FIRST, REQUEST, ST_FAILURE, ST_NO_CHANGE, ST_OUTPUT, STATE, STATUS, VIA_PORT,
  type WorkerEvent, type WorkerInit,
} from './channel.js';

const init = workerData as WorkerInit;
const ctl = new Int32Array(init.control);
const data = new Uint8Array(init.data);
const encoder = new TextEncoder();
const post = (e: WorkerEvent): void => parentPort!.postMessage(e);
const opts = { ...init.opts, print: (stream: 'stdout' | 'stderr', line: string) => post({ t: 'log', stream, line }) };

let inst: GuestInstance | null = null;
let lastError = '';

function build(): boolean {
  try {
    inst = GuestInstance.create(init.module, init.shape, opts);
    return true;
  } catch (err) {
    inst = null;
    lastError = (err as Error).message;
    return false;
  }
}

function discard(reason: string): void {
  inst?.dispose();
  inst = null;
  post({ t: 'recycled', reason });
}

/** Output bytes go straight from guest memory into the shared buffer (or the port when too big). */
function emit(out: Uint8Array): void {
  if (out.length <= data.length) {
    data.set(out);
    ctl[OUT_LEN] = out.length;
  } else {
    init.port.postMessage(out.slice());
    ctl[OUT_LEN] = VIA_PORT;
  }
}

function reply(status: number, out: Uint8Array | null): void {
  ctl[STATUS] = status;
  if (out !== null) emit(out);
  else if (status !== ST_OUTPUT) ctl[OUT_LEN] = 0;
  Atomics.store(ctl, STATE, DONE);
  Atomics.notify(ctl, STATE);
}

function input(): Uint8Array {
  const len = ctl[IN_LEN]!;
  if (len !== VIA_PORT) return data.subarray(0, len);
  const msg = receiveMessageOnPort(init.port)?.message as Uint8Array | string | undefined;
  return typeof msg === 'string' ? encoder.encode(msg) : (msg ?? new Uint8Array(0));
}

function serve(): void {
  const op = ctl[OP];
  if (op === OP_CLEANUP) {
    let rc = 0;
    try { rc = inst?.cleanup() ?? 0; } catch (err) { lastError = (err as Error).message; rc = -1; }
    reply(rc === 0 ? ST_NO_CHANGE : ST_FAILURE, rc === 0 ? null : encoder.encode(rc === -1 ? lastError : `cleanup returned ${rc}`));
    return;
  }
  if (ctl[REBUILD_FIRST] === 1 && inst) discard('output rejected by the host');
  const bytes = input(); // read before anything else touches `data`
  if (!inst && !build()) {
    reply(ST_FAILURE, encoder.encode(`rebuild failed: ${lastError}`));
    return;
  }
  const hook = HOOK_EXPORTS[ctl[HOOK]!]!;
  try {
    const changed = inst!.hookBytes(hook, bytes, emit);
    reply(changed ? ST_OUTPUT : ST_NO_CHANGE, null);
  } catch (err) {
    reply(ST_FAILURE, encoder.encode((err as Error).message));
    discard((err as Error).message);
    build(); // warm again before the next request arrives
    return;
  }
  if (inst!.overHighWater) {
    discard('memory passed its high-water mark');
    build();
  }
}

if (build()) post({ t: 'ready', reportedName: inst!.reportedName });
else post({ t: 'start-failed', reason: lastError });

for (;;) {
  let s: number;
  while ((s = Atomics.load(ctl, STATE)) !== REQUEST) Atomics.wait(ctl, STATE, s);
  serve();
}
