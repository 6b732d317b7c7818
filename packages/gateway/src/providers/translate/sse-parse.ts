import type { Readable } from 'node:stream';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { GatewayError } from '../../schema/errors.js';
import { DEFAULT_BODY_LIMITS, toGatewayError } from '../upstream-client.js';

export type SseEvent = EventSourceMessage;

/** Set `atEnd` before leaving the loop at the provider's end marker: the rest of the body is drained, not aborted. */
export interface SseControl { atEnd: boolean }

/**
 * Upstream SSE body to events. eventsource-parser does the framing (CRLF, multi-line data,
 * comments); the decoder keeps UTF-8 sequences split across TCP chunks intact.
 * Leaving the loop early has two meanings. At the end marker (`ctl.atEnd`), the little that is
 * left (the chunked terminator) is drained so the connection goes back to the pool; node's own
 * iterator would destroy the body, building an AbortError with a stack trace on every stream
 * (5% of a streaming profile). Anywhere else (client gone, plugin ended the stream) the body is
 * destroyed, which aborts the upstream request so the provider stops generating.
 * One event may be at most `maxEventBytes` (network_config.max_stream_event_size_mb): the bytes
 * since the last event (or comment) are counted per chunk, so the parser never holds more than the
 * cap plus one chunk; past it the stream fails with a GatewayError (an error event for the client)
 * and the body is dropped. Without it, `data:` lines with no blank line grew the heap until the
 * process died.
 */
export async function* sseEvents(body: Readable | AsyncIterable<Uint8Array>, provider: string, ctl?: SseControl, maxEventBytes = DEFAULT_BODY_LIMITS.maxEventBytes): AsyncGenerator<SseEvent> {
  const queue: SseEvent[] = [];
  let pending = 0;
  const parser = createParser({ onEvent: (e) => { queue.push(e); pending = 0; }, onComment: () => { pending = 0; } });
  const decoder = new TextDecoder();
  const readable = typeof (body as Readable).iterator === 'function' ? (body as Readable) : undefined;
  const source: AsyncIterable<Uint8Array> = readable ? readable.iterator({ destroyOnReturn: false }) : body;
  let complete = false;
  let oversize = false;
  try {
    for await (const buf of source) {
      pending += buf.byteLength;
      parser.feed(decoder.decode(buf, { stream: true }));
      if (pending > maxEventBytes) {
        // Thrown outside the try below: the body is still open and must be dropped, not kept.
        oversize = true;
        break;
      }
      for (let i = 0; i < queue.length; i++) yield queue[i] as SseEvent;
      queue.length = 0;
    }
    complete = true;
  } catch (err) {
    complete = true;
    throw toGatewayError(err, provider);
  } finally {
    if (!complete && readable && !readable.destroyed) {
      // Nobody reads this body any more: an error it raises from here on is of no interest.
      readable.on('error', () => undefined);
      if (ctl?.atEnd) readable.resume();
      else readable.destroy();
    }
  }
  if (oversize) {
    if (readable && !readable.destroyed) {
      readable.on('error', () => undefined);
      readable.destroy();
    }
    throw tooLarge(provider, maxEventBytes);
  }
  parser.feed(decoder.decode());
  for (const e of queue) yield e;
}

function tooLarge(provider: string, max: number): GatewayError {
  return new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${provider}: upstream stream event is larger than the limit of ${+(max / 1048576).toFixed(2)} MB (network_config.max_stream_event_size_mb)`, { provider, retryable: false });
}
