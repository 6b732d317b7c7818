import type { IncomingMessage } from 'node:http';
import type { FrontCodec } from '../../core/front.js';
import type { FrontName } from '../../schema/front-errors.js';
import type { RequestType } from '../../schema/request.js';
import { AnthropicCodec } from './anthropic/codec.js';

/**
 * The routes beyond the classic OpenAI JSON ones: vendor fronts and the OpenAI request types with
 * a codec of their own. Looked up only when the classic table misses, so chat pays nothing.
 */
export interface FrontRoute {
  requestType: RequestType;
  front: FrontName;
  /** The codec for one request; throws a GatewayError (answered in the front's shape) on bad headers. */
  codec(req: IncomingMessage, params: Record<string, string>): FrontCodec;
}

export interface FrontMatch {
  route: FrontRoute;
  /** Segments the path carried (the GenAI model and method). */
  params: Record<string, string>;
  /** Set when the path is a known front's but the method is not POST-able (GET on a POST route...). */
}

const anthropicMessages: FrontRoute = { requestType: 'chat_completion', front: 'anthropic', codec: (req) => AnthropicCodec.forRequest('messages', req.headers) };
const anthropicCount: FrontRoute = { requestType: 'count_tokens', front: 'anthropic', codec: (req) => AnthropicCodec.forRequest('count_tokens', req.headers) };

const EXACT: Record<string, FrontRoute> = {
  '/anthropic/v1/messages': anthropicMessages,
  '/v1/messages': anthropicMessages,
  '/anthropic/v1/messages/count_tokens': anthropicCount,
  '/v1/messages/count_tokens': anthropicCount,
};

export function matchFrontRoute(path: string): FrontMatch | undefined {
  const exact = EXACT[path];
  if (exact) return { route: exact, params: {} };
  return undefined;
}

/** The front a path belongs to, for answering a 404 or 405 in its shape. */
export function frontOfPath(path: string): FrontName {
  if (path.startsWith('/anthropic/') || path.startsWith('/v1/messages')) return 'anthropic';
  if (path.startsWith('/genai/')) return 'genai';
  return 'openai';
}
