import type { LLMRequest } from '../schema/request.js';
import type { ParseLimits } from './parse-request.js';

/**
 * How a route reads its client body into the internal request. The transport picks one per route
 * (transport/fronts/); the core calls it after the transport pre-hooks, so a hook that rewrote the
 * body is read. Routes without one are the classic OpenAI JSON routes, parsed by
 * parseInferenceBody: the chat hot path has no extra indirection.
 */
export interface RequestCodec {
  parse(body: Uint8Array | null, limits: ParseLimits, query: Record<string, string>): LLMRequest;
}
