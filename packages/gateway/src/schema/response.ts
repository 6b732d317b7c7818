import type { CountTokensResponse, ImageGenerationResponse, RerankResponse, SpeechResponse, TranscriptionResponse } from './media.js';
import type { ChatCompletion, ChatCompletionChunk, EmbeddingResponse, TextCompletion } from './openai.js';
import type { RequestType } from './request.js';
import type { ResponsesResponse, ResponsesStreamEvent } from './responses.js';

/**
 * The response envelope of the plugin contract: exactly one key is set. While streaming,
 * `chat_response` holds one `chat.completion.chunk` (delta instead of message).
 */
export interface LLMResponse {
  chat_response?: ChatCompletion | ChatCompletionChunk;
  text_completion_response?: TextCompletion;
  embedding_response?: EmbeddingResponse;
  /** A Responses API `response`, or while streaming one of its typed events. */
  responses_response?: ResponsesResponse | ResponsesStreamEvent;
  /** Whole audio, or while streaming one `speech.audio.delta` / `speech.audio.done` event. */
  speech_response?: SpeechResponse | Record<string, unknown>;
  /** The transcript, or while streaming one `transcript.text.delta` / `transcript.text.done` event. */
  transcription_response?: TranscriptionResponse | Record<string, unknown>;
  /** The images, or while streaming one `image_generation.partial_image` / `.completed` event. */
  image_generation_response?: ImageGenerationResponse | Record<string, unknown>;
  rerank_response?: RerankResponse;
  count_tokens_response?: CountTokensResponse;
  [k: string]: unknown;
}

/** The envelope key each request type's response travels under. */
export const RESPONSE_KEY: Readonly<Record<RequestType, keyof LLMResponse & string>> = Object.freeze({
  chat_completion: 'chat_response',
  text_completion: 'text_completion_response',
  embedding: 'embedding_response',
  responses: 'responses_response',
  speech: 'speech_response',
  transcription: 'transcription_response',
  image_generation: 'image_generation_response',
  rerank: 'rerank_response',
  count_tokens: 'count_tokens_response',
});

/** The JSON body to send to the client for an envelope (the one key that is set). */
export function responseBody(resp: LLMResponse): unknown {
  return resp.chat_response ?? resp.text_completion_response ?? resp.embedding_response ?? firstValue(resp);
}

function firstValue(resp: LLMResponse): unknown {
  for (const k in resp) if (resp[k] !== undefined && resp[k] !== null) return resp[k];
  return null;
}

const kRawBody = Symbol('gatehouse.raw-body');
const kRawKey = Symbol('gatehouse.raw-key');
const kChunk = Symbol('gatehouse.chunk');
type Raw = { [kRawBody]?: string; [kRawKey]?: string; [kChunk]?: LazyChunk };

/**
 * Remembers the provider's own JSON text of the envelope's one body beside the parsed envelope
 * (symbol keys: JSON.stringify and Object.keys never see it). It stays attached only while nothing
 * could have changed the parsed value: the pipeline drops it before any hook that gets the live
 * object. Then the text is what the client gets, and what a WASM hook's input embeds, saving a
 * re-serialisation per request.
 */
export function attachRawBody(resp: LLMResponse, text: string): LLMResponse {
  const r = resp as Raw;
  for (const k in resp) { r[kRawKey] = k; break; }
  r[kRawBody] = text;
  return resp;
}

export function rawBodyOf(resp: LLMResponse): string | undefined {
  return (resp as Raw)[kRawBody];
}

/** `JSON.stringify(resp)` from the raw text, while it is attached. */
export function rawEnvelopeJson(resp: LLMResponse): string | undefined {
  const r = resp as Raw;
  const text = r[kRawBody];
  return text === undefined ? undefined : `{${JSON.stringify(r[kRawKey])}:${text}}`;
}

/** Before a hook that gets the live object and may change it in place. */
export function dropRawBody(resp: LLMResponse): void {
  const r = resp as Raw;
  if (r[kRawBody] === undefined) return;
  r[kRawBody] = undefined;
  // A lazy chunk envelope becomes a plain object: the hook sees its body as an own property.
  if (r[kChunk] !== undefined) void resp.chat_response;
}

/** What a lazy envelope needs from a stream event (schema/stream.ts's StreamChunk). */
interface LazyChunk { readonly parsed: boolean; readonly json: string; readonly value: unknown }

function settle(env: LLMResponse, v: unknown): unknown {
  Object.defineProperty(env, 'chat_response', { value: v, enumerable: true, writable: true, configurable: true });
  (env as Raw)[kChunk] = undefined;
  return v;
}

// Shared accessor: creating an envelope is one Object.create and three stores, no closures.
const LAZY_ENVELOPE = Object.create(Object.prototype, {
  chat_response: {
    enumerable: true,
    configurable: true,
    get(this: LLMResponse & Raw) { return settle(this, this[kChunk]!.value); },
    set(this: LLMResponse, v: unknown) { settle(this, v); },
  },
}) as object;

/**
 * The LLM post-hook envelope `{chat_response: <event>}` for one stream event. While the event is
 * still text, the envelope carries that text as its raw body and parses it only when someone reads
 * `chat_response`, or when the pipeline hands it to a hook that sees live objects: WASM post-hooks
 * embed the text and never force a parse.
 */
export function chunkEnvelope(chunk: LazyChunk): LLMResponse {
  if (chunk.parsed) return { chat_response: chunk.value as ChatCompletionChunk };
  const env = Object.create(LAZY_ENVELOPE) as LLMResponse & Raw;
  env[kChunk] = chunk;
  env[kRawKey] = 'chat_response';
  env[kRawBody] = chunk.json;
  return env;
}
