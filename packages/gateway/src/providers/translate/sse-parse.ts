import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { toGatewayError } from '../upstream-client.js';

export type SseEvent = EventSourceMessage;

/**
 * Upstream SSE body to events. eventsource-parser does the framing (CRLF, multi-line data,
 * comments); the decoder keeps UTF-8 sequences split across TCP chunks intact. Leaving the loop
 * early (client gone) closes the upstream body, which releases or aborts the connection.
 */
export async function* sseEvents(body: AsyncIterable<Uint8Array>, provider: string): AsyncGenerator<SseEvent> {
  const queue: SseEvent[] = [];
  const parser = createParser({ onEvent: (e) => queue.push(e) });
  const decoder = new TextDecoder();
  try {
    for await (const buf of body) {
      parser.feed(decoder.decode(buf, { stream: true }));
      for (let i = 0; i < queue.length; i++) yield queue[i] as SseEvent;
      queue.length = 0;
    }
  } catch (err) {
    throw toGatewayError(err, provider);
  }
  parser.feed(decoder.decode());
  for (const e of queue) yield e;
}
