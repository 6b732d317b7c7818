import type { GatewayConfig } from '../config/load.js';
import type { LLMRequest } from '../schema/request.js';
import type { LLMResponse } from '../schema/response.js';
import type { StreamChunk } from '../schema/stream.js';

/** One server-sent event as written: an optional `event:` name and its `data:`. */
export interface SseFrame {
  event?: string;
  data: string;
}

/**
 * Turns the internal stream events of one request (what the hooks saw) into the front's SSE
 * events. Stateful per request: Anthropic's content blocks and the Responses API's sequence
 * numbers need the events before.
 */
export interface StreamEncoder {
  event(chunk: StreamChunk): SseFrame[];
  /** After the last event (the OpenAI chat front: `[DONE]`). */
  end(): SseFrame[];
}

/** A whole answer as the front sends it. */
export interface RenderedBody {
  contentType: string;
  body: Uint8Array | string;
}

/**
 * A route's wire format, between the client and the internal schema. The transport picks one per
 * route (transport/fronts/); the core calls `parse` after the transport pre-hooks (a hook that
 * rewrote the body is read), and `render` / `encoder` on what the post-hooks left. Routes without
 * one are the classic OpenAI JSON routes, served as before: the chat hot path has no indirection.
 */
export interface FrontCodec {
  parse(body: Uint8Array | null, config: GatewayConfig, query: Record<string, string>): LLMRequest;
  render(resp: LLMResponse, req: LLMRequest): RenderedBody;
  encoder(req: LLMRequest): StreamEncoder;
  /**
   * The stream events of a whole response, for a client that asked for a stream but got an answer
   * a plugin made (a short-circuit) rather than a provider stream.
   */
  eventsOf(resp: LLMResponse, req: LLMRequest): StreamChunk[];
}
