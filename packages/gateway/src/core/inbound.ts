import type { CancelSignal } from '../schema/cancel.js';
import type { FrontName } from '../schema/front-errors.js';
import type { RequestType } from '../schema/request.js';
import type { FrontCodec } from './front.js';

/** A request as the transport hands it to the core: no node:http types beyond plain data. */
export interface InboundRequest {
  requestId: string;
  requestType: RequestType;
  /** The wire format the client speaks: errors (and answers) go back in it. */
  front: FrontName;
  /** The route's wire format; absent for the classic OpenAI JSON routes. */
  codec?: FrontCodec;
  method: string;
  path: string;
  /** Header pairs as received (original case), name then value. */
  rawHeaders: readonly string[];
  query: Record<string, string>;
  body: Buffer;
  /** performance.now() when the request arrived, for the overhead header. */
  receivedAt: number;
}

/** Where the core writes its answer; the transport implements it over node:http. */
export interface ResponseSink {
  /** Aborted when the client goes away before the answer is complete (or the gateway cuts it). */
  readonly signal: CancelSignal;
  /** The gateway itself ended the stream (shutdown), as opposed to the client leaving. */
  readonly wasCut?: boolean;
  send(status: number, headers: Record<string, string>, body: Uint8Array | string | null): void;
  startStream(status: number, headers: Record<string, string>): void;
  /** Writes one SSE `data:` event (with an `event:` line when named). Returns a promise only when the socket is full (backpressure). */
  writeEvent(data: string, event?: string): void | Promise<void>;
  /** Writes bytes as they are (a pass-through stream); same backpressure rule. */
  writeRaw(data: Uint8Array): void | Promise<void>;
  endStream(): void;
}
