import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayConfig } from '../../../config/load.js';
import type { FrontCodec, RenderedBody, StreamEncoder } from '../../../core/front.js';
import { completionToChunks } from '../../../core/stream-convert.js';
import { GatewayError } from '../../../schema/errors.js';
import type { ChatCompletion } from '../../../schema/openai.js';
import { attachClientBody, type LLMRequest } from '../../../schema/request.js';
import { responseBody, type LLMResponse } from '../../../schema/response.js';
import type { StreamChunk } from '../../../schema/stream.js';
import { fallbacksOf, invalid, readJsonObject, vendorModel } from '../body-json.js';
import { anthropicToChat } from './request.js';
import { chatToAnthropic } from './response.js';
import { AnthropicStreamEncoder } from './stream.js';

/** The `anthropic-version` values the Messages API has published. */
export const ANTHROPIC_VERSIONS = new Set(['2023-06-01', '2023-01-01']);

/** Headers forwarded to an Anthropic upstream on the pass-through path (never the client's key). */
const FORWARDED = ['anthropic-version', 'anthropic-beta'];

/**
 * The Anthropic front (`/anthropic/v1/messages`, `/v1/messages`, `.../count_tokens`): Messages
 * bodies in, Messages answers and events out, over the internal chat request. One instance per
 * request: it carries the request's vendor headers.
 */
export class AnthropicCodec implements FrontCodec {
  readonly #op: 'messages' | 'count_tokens';
  readonly #headers: Record<string, string>;

  private constructor(op: 'messages' | 'count_tokens', headers: Record<string, string>) {
    this.#op = op;
    this.#headers = headers;
  }

  /** Refuses an `anthropic-version` the API never had (a missing one means the current). */
  static forRequest(op: 'messages' | 'count_tokens', headers: IncomingHttpHeaders): AnthropicCodec {
    const version = headers['anthropic-version'];
    if (version !== undefined && !ANTHROPIC_VERSIONS.has(String(version))) {
      throw new GatewayError('GH_ERR_INVALID_REQUEST', `anthropic-version: "${String(version)}" is not a valid version; use one of ${[...ANTHROPIC_VERSIONS].join(', ')}`, { param: 'anthropic-version' });
    }
    const forwarded: Record<string, string> = {};
    for (const h of FORWARDED) {
      const v = headers[h];
      if (v !== undefined) forwarded[h] = Array.isArray(v) ? v.join(',') : v;
    }
    return new AnthropicCodec(op, forwarded);
  }

  parse(body: Uint8Array | null, config: GatewayConfig): LLMRequest {
    const json = readJsonObject(body, config);
    const model = json.model;
    if (typeof model !== 'string' || model.length === 0) throw invalid(`model: Field required (a string like "claude-sonnet-4-5" or "openai/gpt-4o")`, 'model');
    if (this.#op === 'messages' && json.max_tokens === undefined) throw invalid('max_tokens: Field required', 'max_tokens');
    if (this.#op === 'count_tokens' && json.stream !== undefined) throw invalid('stream: count_tokens cannot be streamed', 'stream');
    const { messages, params } = anthropicToChat(json);
    if (messages.length > config.maxMessages) throw invalid(`'messages' has ${messages.length} messages; the limit is ${config.maxMessages} (client.max_messages)`, 'messages');
    const req: LLMRequest = {
      request_type: this.#op === 'messages' ? 'chat_completion' : 'count_tokens',
      provider: '',
      model: vendorModel(model, 'anthropic', config.providers),
      input: messages,
      params,
      fallbacks: fallbacksOf(json.fallbacks),
    };
    // Gatehouse's own `fallbacks` field is not the Anthropic API's: it is left out upstream.
    const forwardJson = json.fallbacks === undefined ? json : withoutKey(json, 'fallbacks');
    return attachClientBody(req, {
      format: 'anthropic',
      path: this.#op === 'messages' ? '/messages' : '/messages/count_tokens',
      body: forwardJson === json ? (body as Uint8Array) : Buffer.from(JSON.stringify(forwardJson)),
      json: forwardJson,
      model,
      headers: this.#headers,
      stream: json.stream === true,
    });
  }

  render(resp: LLMResponse, req: LLMRequest): RenderedBody {
    if (req.request_type === 'count_tokens') {
      const n = (resp.count_tokens_response as { input_tokens?: number } | undefined)?.input_tokens ?? 0;
      return json({ input_tokens: n });
    }
    const chat = resp.chat_response as ChatCompletion | undefined;
    if (chat && chat.object === 'chat.completion') return json(chatToAnthropic(chat));
    // A plugin answered in another shape: sent as it made it.
    return json(responseBody(resp));
  }

  encoder(req: LLMRequest): StreamEncoder {
    return new AnthropicStreamEncoder(req.model);
  }

  eventsOf(resp: LLMResponse): StreamChunk[] {
    const chat = resp.chat_response as ChatCompletion | undefined;
    return chat && chat.object === 'chat.completion' ? completionToChunks(chat, true) : [];
  }
}

function json(v: unknown): RenderedBody {
  return { contentType: 'application/json', body: JSON.stringify(v) };
}

function withoutKey(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _drop, ...rest } = o;
  return rest;
}
