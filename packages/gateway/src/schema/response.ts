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
 * Remembers the provider's own JSON text of the envelope's one body beside the parsed envelope
 * (not enumerable: plugins, spreads and JSON.stringify never see it). It stays attached only while
 * nothing could have changed the parsed value: the pipeline drops it before any hook that gets the
 * live object. Then the text is what the client gets, and what a WASM hook's input embeds, saving
 * a re-serialisation per request.
 */
export function attachRawBody(resp: LLMResponse, text: string): LLMResponse {
  Object.defineProperty(resp, kRawBody, { value: text, enumerable: false, writable: true, configurable: true });
  return resp;
}

export function rawBodyOf(resp: LLMResponse): string | undefined {
  return (resp as Record<symbol, string | undefined>)[kRawBody];
}

/** Before a hook that may change the response in place. */
export function dropRawBody(resp: LLMResponse): void {
  if ((resp as Record<symbol, string | undefined>)[kRawBody] !== undefined) (resp as Record<symbol, string | undefined>)[kRawBody] = undefined;
}
