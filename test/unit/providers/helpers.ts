// Shared by the provider tests: a ProviderCall against a mock upstream, request builders, and
// a stream collector that keeps what arrived before an error.
import type { ProviderCall, ProviderResult } from '../../../packages/gateway/src/providers/provider.js';
import { UpstreamClient } from '../../../packages/gateway/src/providers/upstream-client.js';
import type { ChatCompletion, ChatCompletionChunk, ChatMessage } from '../../../packages/gateway/src/schema/openai.js';
import type { LLMRequest, RequestType } from '../../../packages/gateway/src/schema/request.js';
import type { LLMResponse } from '../../../packages/gateway/src/schema/response.js';

export const http = new UpstreamClient();

export function callFor(baseUrl: string, over: { key?: string; timeoutMs?: number; idleMs?: number; signal?: AbortSignal } = {}): ProviderCall {
  return {
    key: { name: 'k1', value: over.key ?? 'test-key', models: [], weight: 1 },
    network: {
      baseUrl, extraHeaders: {}, requestTimeoutMs: over.timeoutMs ?? 3000, maxRetries: 0,
      retryBackoffInitialMs: 1, retryBackoffMaxMs: 1, streamIdleTimeoutMs: over.idleMs ?? 3000,
    },
    meta: {},
    signal: over.signal ?? new AbortController().signal,
    http,
  };
}

export function chatReq(input: ChatMessage[], params: Record<string, unknown> = {}, model = 'test-model'): LLMRequest {
  return { request_type: 'chat_completion', provider: 'test', model, input, params, fallbacks: [] };
}

export function req(type: RequestType, input: LLMRequest['input'], params: Record<string, unknown> = {}, model = 'test-model'): LLMRequest {
  return { request_type: type, provider: 'test', model, input, params, fallbacks: [] };
}

export const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { city: { type: ['string', 'null'] } }, required: ['city'], additionalProperties: false },
  },
};

export function response(r: ProviderResult): LLMResponse {
  if (r.kind !== 'response') throw new Error(`expected a response, got ${r.kind}`);
  return r.response;
}

export function chat(r: ProviderResult): ChatCompletion {
  return response(r).chat_response as ChatCompletion;
}

/** Drains a stream; `error` is what it threw (if anything), `chunks` what came before. */
export async function collect(r: ProviderResult): Promise<{ chunks: ChatCompletionChunk[]; error: unknown }> {
  if (r.kind !== 'stream') throw new Error(`expected a stream, got ${r.kind}`);
  const chunks: ChatCompletionChunk[] = [];
  try {
    for await (const c of r.stream) chunks.push(c.value as ChatCompletionChunk);
  } catch (error) {
    return { chunks, error };
  }
  return { chunks, error: undefined };
}

export function streamedText(chunks: ChatCompletionChunk[]): string {
  return chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
}

/** Tool calls rebuilt from deltas, the way an OpenAI client does it. */
export function streamedToolCalls(chunks: ChatCompletionChunk[]): Array<{ id: string; name: string; arguments: string }> {
  const calls: Array<{ id: string; name: string; arguments: string }> = [];
  for (const c of chunks) {
    for (const d of c.choices[0]?.delta.tool_calls ?? []) {
      const call = (calls[d.index] ??= { id: '', name: '', arguments: '' });
      if (d.id) call.id = d.id;
      if (d.function?.name) call.name = d.function.name;
      if (d.function?.arguments) call.arguments += d.function.arguments;
    }
  }
  return calls;
}

export async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

export const PNG_DATA_URL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
