import type { CancelSignal } from '../schema/cancel.js';
import { GatewayError } from '../schema/errors.js';
import type { FrontName } from '../schema/front-errors.js';
import type { ClientBody, LLMRequest, RequestType } from '../schema/request.js';
import type { LLMResponse } from '../schema/response.js';
import type { StreamChunk } from '../schema/stream.js';
import type { BodyLimits, UpstreamClient } from './upstream-client.js';

/** Network settings of one provider, from `network_config`, defaults applied, times in ms. */
export interface NetworkSettings {
  baseUrl: string;
  extraHeaders: Record<string, string>;
  requestTimeoutMs: number;
  maxRetries: number;
  retryBackoffInitialMs: number;
  retryBackoffMaxMs: number;
  streamIdleTimeoutMs: number;
  /** Longest silence between two body chunks of a non-streaming answer (default: requestTimeoutMs). */
  bodyIdleTimeoutMs?: number;
  /** Bounds on what is read of an answer (one frozen object per provider; the defaults when absent). */
  bodyLimits?: BodyLimits;
}

export interface ProviderKey {
  name: string;
  /** The secret, already resolved from `env.NAME`. Added to the upstream request only; never logged. */
  value: string;
  /** Empty or containing "*" means every model. */
  models: string[];
  weight: number;
  /**
   * Provider-specific key settings (`bedrock_key_config`, `vertex_key_config`), env refs resolved.
   * Holds secrets: adapters read it, nothing logs it.
   */
  config?: Readonly<Record<string, unknown>>;
}

/** Everything one upstream attempt needs besides the request. */
export interface ProviderCall {
  key: ProviderKey;
  network: NetworkSettings;
  /** Provider-specific settings (`meta_config`), e.g. Azure's endpoint and deployments. */
  meta: Record<string, unknown>;
  signal: CancelSignal;
  http: UpstreamClient;
}

export type ProviderResult =
  | { kind: 'response'; response: LLMResponse }
  | { kind: 'stream'; stream: AsyncIterable<StreamChunk> }
  /** The upstream's answer as it came (pass-through of a vendor front's body, see ClientBody). */
  | { kind: 'passthrough'; contentType: string; body: AsyncIterable<Uint8Array>; stream: boolean };

/** An adapter method that serves one request type. */
export type TypeHandler = (req: LLMRequest, call: ProviderCall) => Promise<ProviderResult>;

/**
 * One adapter per provider: translates the internal schema (OpenAI shapes) to the provider's wire
 * format and back. `send` resolves once the upstream accepted the request (for a stream: the
 * status line and headers arrived); it rejects with a GatewayError (retryable or not) otherwise.
 * A stream's iterator yields OpenAI `chat.completion.chunk` / `text_completion` events and throws a
 * GatewayError if the upstream fails mid-way or ends without its end marker.
 *
 * `send` serves the classic types (chat, text completion, embedding; `supports` says which).
 * Every other request type has an optional method of its own: an adapter offers a type by having
 * the method, and a provider without it answers 400 naming the provider and the type
 * (`callAdapter` below). Each method gets the internal request of its type (schema/request.ts
 * documents `input` per type) and resolves with the response under the type's envelope key
 * (`RESPONSE_KEY`), or a stream of the type's events (the OpenAI event shapes:
 * `response.*`, `speech.audio.*`, `transcript.text.*`, `image_generation.*`).
 */
export interface ProviderAdapter {
  /** The adapter kind (`openai`, `anthropic`, `gemini`, `mock`...). */
  readonly kind: string;
  readonly defaultBaseUrl: string;
  /** Whether keys are required (the mock and local servers need none). */
  readonly requiresKey: boolean;
  supports(type: RequestType): boolean;
  /**
   * Checks a configured key at load time; a message names what is missing. Without it, a key
   * needs a non-empty `value` when `requiresKey` is set.
   */
  checkKey?(key: ProviderKey): string | undefined;
  send(req: LLMRequest, call: ProviderCall): Promise<ProviderResult>;
  /** POST /v1/responses natively. Without it, a chat-capable adapter gets it translated through chat. */
  responses?: TypeHandler;
  /** Text to speech: `speech_response` `{audio, content_type}`, or `speech.audio.*` events. */
  speech?: TypeHandler;
  /** Speech to text: `transcription_response` `{text}`, or `transcript.text.*` events. */
  transcription?: TypeHandler;
  /** `image_generation_response` `{created, data}`, or `image_generation.*` events. */
  imageGeneration?: TypeHandler;
  /** `rerank_response` `{model, results: [{index, relevance_score}]}`. */
  rerank?: TypeHandler;
  /** `count_tokens_response` `{input_tokens, model}`. */
  countTokens?: TypeHandler;
  /** The vendor front whose wire format this provider speaks natively (`anthropic`, `genai`). */
  readonly nativeFront?: FrontName;
  /** Sends a vendor front's body untouched (only the model, if routing changed it) and returns the answer as it comes. */
  forward?(raw: ClientBody, req: LLMRequest, call: ProviderCall): Promise<ProviderResult>;
}

/** The adapter method of each request type that `send` does not serve. */
export const TYPE_METHOD = {
  responses: 'responses',
  speech: 'speech',
  transcription: 'transcription',
  image_generation: 'imageGeneration',
  rerank: 'rerank',
  count_tokens: 'countTokens',
} as const satisfies Partial<Record<RequestType, keyof ProviderAdapter>>;

/** The request types `send` serves (and `supports` answers for). */
export type ClassicType = 'chat_completion' | 'text_completion' | 'embedding';

export function isClassicType(type: RequestType): type is ClassicType {
  return type === 'chat_completion' || type === 'text_completion' || type === 'embedding';
}

/** The adapter's own handler for a non-classic type, bound, or undefined when it has none. */
export function typeHandler(adapter: ProviderAdapter, type: Exclude<RequestType, ClassicType>): TypeHandler | undefined {
  const fn = adapter[TYPE_METHOD[type]];
  return typeof fn === 'function' ? fn.bind(adapter) : undefined;
}

/** The 400 for a provider that does not offer a request type; fallbacks may still serve it. */
export function unsupportedType(provider: string, type: RequestType, detail = ''): GatewayError {
  return new GatewayError('GH_ERR_UNSUPPORTED_OPERATION', `provider "${provider}" does not support ${type} requests${detail}`, { provider, allowFallbacks: true });
}
