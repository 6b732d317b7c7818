import { GatewayError } from '../../schema/errors.js';
import type { ClientBody, LLMRequest, RequestType } from '../../schema/request.js';
import type { UpstreamResponse } from '../upstream-client.js';
import type { ProviderAdapter, ProviderCall, ProviderResult } from '../provider.js';
import { versionedUrl } from '../translate/base-url.js';
import { includeUsage } from '../translate/params.js';
import { completeViaChat } from '../translate/text-completion.js';
import { readJson } from '../translate/upstream-body.js';
import { upstreamStatusError } from '../translate/upstream-error.js';
import { anthropicBody } from './request.js';
import { anthropicErrorDialect, anthropicToChat } from './response.js';
import { anthropicStream } from './stream.js';

export const ANTHROPIC_VERSION = '2023-06-01';

/**
 * Anthropic Messages API (`POST {base}/v1/messages`). Chat completions are translated both ways;
 * text completions ride on the same endpoint as a one-message chat. Anthropic has no embeddings.
 */
export class AnthropicAdapter implements ProviderAdapter {
  readonly kind = 'anthropic';
  readonly defaultBaseUrl = 'https://api.anthropic.com';
  readonly requiresKey = true;
  readonly nativeFront = 'anthropic' as const;

  supports(type: RequestType): boolean {
    return type === 'chat_completion' || type === 'text_completion';
  }

  async send(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    if (!this.supports(req.request_type)) {
      throw new GatewayError('GH_ERR_UNSUPPORTED_OPERATION', `anthropic does not support ${req.request_type}`, { provider: this.kind, allowFallbacks: true });
    }
    if (req.request_type === 'text_completion') return completeViaChat(req, this.kind, (r) => this.#chat(r, call));
    return this.#chat(req, call);
  }

  /** POST /v1/messages/count_tokens with the chat translated as for /v1/messages. */
  async countTokens(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    const { max_tokens: _m, stream: _s, ...body } = anthropicBody({ ...req, params: { ...req.params, stream: false } });
    const res = await this.#post('/messages/count_tokens', JSON.stringify(body), {}, call, false);
    const out = await readJson<{ input_tokens?: unknown }>(res, this.kind);
    if (typeof out?.input_tokens !== 'number') {
      throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${this.kind}: count_tokens answered without input_tokens`, { provider: this.kind, retryable: true });
    }
    return { kind: 'response', response: { count_tokens_response: { input_tokens: out.input_tokens, model: req.model } } };
  }

  /** The Anthropic front's own body, untouched unless routing changed the model. */
  async forward(raw: ClientBody, req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    const body = raw.model === req.model ? raw.body : JSON.stringify({ ...raw.json, model: req.model });
    const res = await this.#post(raw.path, body, raw.headers, call, raw.stream);
    const type = res.headers['content-type'];
    return { kind: 'passthrough', contentType: typeof type === 'string' ? type : raw.stream ? 'text/event-stream' : 'application/json', body: res.body, stream: raw.stream };
  }

  async #post(path: string, body: string | Uint8Array, vendorHeaders: Record<string, string>, call: ProviderCall, stream: boolean): Promise<UpstreamResponse> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'anthropic-version': ANTHROPIC_VERSION,
      ...vendorHeaders,
      ...call.network.extraHeaders,
    };
    if (call.key.value) headers['x-api-key'] = call.key.value;
    const res = await call.http.request({
      url: versionedUrl(call.network.baseUrl || this.defaultBaseUrl, '/v1', path),
      headers,
      body,
      signal: call.signal,
      headersTimeoutMs: call.network.requestTimeoutMs,
      bodyTimeoutMs: stream ? call.network.streamIdleTimeoutMs : (call.network.bodyIdleTimeoutMs ?? call.network.requestTimeoutMs),
      provider: this.kind,
      limits: call.network.bodyLimits,
    });
    if (res.status < 200 || res.status > 299) throw await upstreamStatusError(res, this.kind, anthropicErrorDialect);
    return res;
  }

  async #chat(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    const stream = req.params.stream === true;
    const res = await this.#post('/messages', JSON.stringify(anthropicBody(req)), {}, call, stream);
    if (stream) return { kind: 'stream', stream: anthropicStream(res, this.kind, req.model, includeUsage(req.params)) };
    const body = await readJson<Record<string, unknown>>(res, this.kind);
    if (!body || typeof body !== 'object' || body.type === 'error' || !Array.isArray(body.content)) {
      const message = anthropicErrorDialect(body).message ?? 'upstream answered without a message';
      throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${this.kind}: ${message}`, { provider: this.kind, retryable: true });
    }
    return { kind: 'response', response: { chat_response: anthropicToChat(body, req.model) } };
  }
}
