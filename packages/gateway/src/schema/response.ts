import type { ChatCompletion, ChatCompletionChunk, EmbeddingResponse, TextCompletion } from './openai.js';

/**
 * The response envelope of the plugin contract: exactly one key is set. While streaming,
 * `chat_response` holds one `chat.completion.chunk` (delta instead of message).
 */
export interface LLMResponse {
  chat_response?: ChatCompletion | ChatCompletionChunk;
  text_completion_response?: TextCompletion;
  embedding_response?: EmbeddingResponse;
  [k: string]: unknown;
}

/** The JSON body to send to the client for an envelope (the one key that is set). */
export function responseBody(resp: LLMResponse): unknown {
  return resp.chat_response ?? resp.text_completion_response ?? resp.embedding_response ?? firstValue(resp);
}

function firstValue(resp: LLMResponse): unknown {
  for (const k in resp) if (resp[k] !== undefined && resp[k] !== null) return resp[k];
  return null;
}

const kRawBody = Symbol.for('gatehouse.raw-body');

/**
 * Remembers the provider's own JSON text beside a parsed envelope (not enumerable: plugins and
 * JSON.stringify never see it). The lifecycle sends that text as it came when no post-hook could
 * have changed the parsed value, saving a re-serialisation per request.
 */
export function attachRawBody(resp: LLMResponse, text: string): LLMResponse {
  Object.defineProperty(resp, kRawBody, { value: text, enumerable: false });
  return resp;
}

export function rawBodyOf(resp: LLMResponse): string | undefined {
  return (resp as Record<symbol, string | undefined>)[kRawBody];
}
