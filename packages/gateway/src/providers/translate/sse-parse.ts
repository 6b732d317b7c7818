import type { Readable } from 'node:stream';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { toGatewayError } from '../upstream-client.js';

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
 */
export async function* sseEvents(body: Readable | AsyncIterable<Uint8Array>, provider: string, ctl?: SseControl): AsyncGenerator<SseEvent> {
  const queue: SseEvent[] = [];
  const parser = createParser({ onEvent: (e) => queue.push(e) });
  const decoder = new TextDecoder();
  const readable = typeof (body as Readable).iterator === 'function' ? (body as Readable) : undefined;
  const source: AsyncIterable<Uint8Array> = readable ? readable.iterator({ destroyOnReturn: false }) : body;
  let complete = false;
  try {
    for await (const buf of source) {
      parser.feed(decoder.decode(buf, { stream: true }));
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
  parser.feed(decoder.decode());
  for (const e of queue) yield e;
}
