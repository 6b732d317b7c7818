import type { ChatMessage } from './openai.js';

/** Which API the client called; the plugin contract's `request_type`. */
export type RequestType = 'chat_completion' | 'text_completion' | 'embedding';

/**
 * The one internal request, flat as the plugin contract's `pre_hook` input:
 * `input` is the messages (chat), the prompt (text completion) or the input (embedding);
 * `params` holds every other body field (temperature, tools, stream, response_format...) untouched.
 */
export interface LLMRequest {
  request_type: RequestType;
  provider: string;
  model: string;
  input: ChatMessage[] | string | string[] | number[] | number[][];
  params: Record<string, unknown>;
  /** Further targets as `provider/model`, tried in order when this one fails. */
  fallbacks: string[];
}

export function isStreaming(req: LLMRequest): boolean {
  return req.params.stream === true;
}

export function chatMessages(req: LLMRequest): ChatMessage[] {
  return Array.isArray(req.input) ? (req.input as ChatMessage[]) : [];
}
