import type { CancelSignal } from '../schema/cancel.js';
import type { LLMRequest, RequestType } from '../schema/request.js';
import type { LLMResponse } from '../schema/response.js';
import type { StreamChunk } from '../schema/stream.js';
import type { UpstreamClient } from './upstream-client.js';

/** Network settings of one provider, from `network_config`, defaults applied, times in ms. */
export interface NetworkSettings {
  baseUrl: string;
  extraHeaders: Record<string, string>;
  requestTimeoutMs: number;
  maxRetries: number;
  retryBackoffInitialMs: number;
  retryBackoffMaxMs: number;
  streamIdleTimeoutMs: number;
}

export interface ProviderKey {
  name: string;
  /** The secret, already resolved from `env.NAME`. Added to the upstream request only; never logged. */
  value: string;
  /** Empty or containing "*" means every model. */
  models: string[];
  weight: number;
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
  | { kind: 'stream'; stream: AsyncIterable<StreamChunk> };

/**
 * One adapter per provider: translates the internal schema (OpenAI shapes) to the provider's wire
 * format and back. `send` resolves once the upstream accepted the request (for a stream: the
 * status line and headers arrived); it rejects with a GatewayError (retryable or not) otherwise.
 * A stream's iterator yields OpenAI `chat.completion.chunk` / `text_completion` events and throws a
 * GatewayError if the upstream fails mid-way or ends without its end marker.
 */
export interface ProviderAdapter {
  /** The adapter kind (`openai`, `anthropic`, `gemini`, `mock`...). */
  readonly kind: string;
  readonly defaultBaseUrl: string;
  /** Whether keys are required (the mock and local servers need none). */
  readonly requiresKey: boolean;
  supports(type: RequestType): boolean;
  send(req: LLMRequest, call: ProviderCall): Promise<ProviderResult>;
}
