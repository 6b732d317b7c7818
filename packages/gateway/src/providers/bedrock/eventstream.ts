import type { Readable } from 'node:stream';
import { EventStreamCodec, type Message } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { GatewayError } from '../../schema/errors.js';
import { toGatewayError } from '../upstream-client.js';

/**
 * `application/vnd.amazon.eventstream` body → messages, decoded as the bytes arrive. Frames are
 * cut here (4-byte total length first); @smithy/eventstream-codec checks both CRCs and parses
 * the headers. The body is pulled one chunk at a time when the consumer asks for the next
 * message, so a slow client slows the upstream read (backpressure) instead of buffering.
 */
export interface StreamMessage {
  /** `:message-type`: `event`, `exception` or `error`. */
  kind: string;
  /** `:event-type`, `:exception-type` or `:error-code`. */
  name: string;
  payload: Uint8Array;
  /** `:error-message` of an `error` message. */
  errorMessage?: string;
}

/** A frame larger than this is refused rather than buffered (Bedrock's are a few KB). */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;
const codec = new EventStreamCodec(toUtf8, fromUtf8);

export interface FrameControl { atEnd: boolean }

export async function* eventStreamMessages(body: Readable | AsyncIterable<Uint8Array>, provider: string, ctl?: FrameControl): AsyncGenerator<StreamMessage> {
  const readable = typeof (body as Readable).iterator === 'function' ? (body as Readable) : undefined;
  const source: AsyncIterable<Uint8Array> = readable ? readable.iterator({ destroyOnReturn: false }) : body;
  let pending: Buffer = Buffer.alloc(0);
  let complete = false;
  try {
    for await (const chunk of source) {
      pending = pending.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const total = pending.readUInt32BE(0);
        if (total < 16 || total > MAX_FRAME_BYTES) throw bad(provider, `event-stream frame of ${total} bytes`);
        if (pending.length < total) break;
        const frame = pending.subarray(0, total);
        pending = pending.subarray(total);
        yield toMessage(decode(frame, provider));
      }
    }
    complete = true;
  } catch (err) {
    complete = true;
    throw err instanceof GatewayError ? err : toGatewayError(err, provider);
  } finally {
    if (!complete && readable && !readable.destroyed) {
      readable.on('error', () => undefined);
      if (ctl?.atEnd) readable.resume();
      else readable.destroy();
    }
  }
  if (pending.length > 0) throw bad(provider, 'event stream ended inside a frame');
}

function decode(frame: Uint8Array, provider: string): Message {
  try {
    return codec.decode(frame);
  } catch (err) {
    // Checksum mismatches and malformed headers alike: the bytes cannot be trusted.
    throw bad(provider, `event-stream frame rejected (${(err as Error).message})`);
  }
}

function toMessage(m: Message): StreamMessage {
  const h = (name: string): string | undefined => {
    const v = m.headers[name];
    return v && v.type === 'string' ? v.value : undefined;
  };
  const kind = h(':message-type') ?? 'event';
  const name = (kind === 'exception' ? h(':exception-type') : kind === 'error' ? h(':error-code') : h(':event-type')) ?? '';
  const out: StreamMessage = { kind, name, payload: m.body };
  const errorMessage = h(':error-message');
  if (errorMessage !== undefined) out.errorMessage = errorMessage;
  return out;
}

function bad(provider: string, what: string): GatewayError {
  return new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${provider}: ${what}`, { provider, retryable: true });
}
