import { GatewayError } from '../../schema/errors.js';
import type { LLMRequest, RequestType } from '../../schema/request.js';
import type { ProviderAdapter, ProviderCall, ProviderResult } from '../provider.js';
import type { UpstreamResponse } from '../upstream-client.js';
import { versionedUrl } from '../translate/base-url.js';
import { includeUsage } from '../translate/params.js';
import { completeViaChat } from '../translate/text-completion.js';
import { readJson } from '../translate/upstream-body.js';
import { upstreamStatusError } from '../translate/upstream-error.js';
import { embedCall, embeddingsFromGemini } from './embeddings.js';
import { geminiBody } from './request.js';
import { geminiErrorDialect, geminiToChat, type GeminiResponse } from './response.js';
import { geminiStream } from './stream.js';

/**
 * Google Gemini API (generativelanguage.googleapis.com, `v1beta`): chat via generateContent and
 * streamGenerateContent (`alt=sse`), embeddings via embedContent / batchEmbedContents, text
 * completions as a one-message chat. The key travels in `x-goog-api-key`, never in the URL.
 */
export class GeminiAdapter implements ProviderAdapter {
  readonly kind = 'gemini';
  readonly defaultBaseUrl = 'https://generativelanguage.googleapis.com';
  readonly requiresKey = true;

  supports(_type: RequestType): boolean {
    return true;
  }

  async send(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    if (req.request_type === 'embedding') return this.#embed(req, call);
    if (req.request_type === 'text_completion') return completeViaChat(req, this.kind, (r) => this.#chat(r, call));
    return this.#chat(req, call);
  }

  async #chat(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    const stream = req.params.stream === true;
    const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
    const res = await this.#post(req, call, method, geminiBody(req), stream);
    if (stream) return { kind: 'stream', stream: geminiStream(res, this.kind, req.model, includeUsage(req.params)) };
    const body = await readJson<GeminiResponse & { error?: unknown }>(res, this.kind);
    if (!body || typeof body !== 'object' || body.error || (!body.candidates && !body.promptFeedback)) {
      const message = geminiErrorDialect(body).message ?? 'upstream answered without candidates';
      throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${this.kind}: ${message}`, { provider: this.kind, retryable: true });
    }
    return { kind: 'response', response: { chat_response: geminiToChat(body, req.model) } };
  }

  async #embed(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    const model = modelId(req.model);
    const embed = embedCall(req, model, this.kind);
    const res = await this.#post(req, call, embed.method, embed.body, false);
    const body = await readJson<Record<string, unknown>>(res, this.kind);
    const out = embeddingsFromGemini(body ?? {}, req.model, req.params.encoding_format === 'base64');
    if (!out || out.data.length !== embed.count) {
      throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${this.kind}: upstream answered without the expected embeddings`, { provider: this.kind, retryable: true });
    }
    return { kind: 'response', response: { embedding_response: out } };
  }

  async #post(req: LLMRequest, call: ProviderCall, method: string, body: unknown, stream: boolean): Promise<UpstreamResponse> {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...call.network.extraHeaders };
    if (call.key.value) headers['x-goog-api-key'] = call.key.value;
    const path = `/models/${encodeURIComponent(modelId(req.model))}:${method}`;
    const res = await call.http.request({
      url: versionedUrl(call.network.baseUrl || this.defaultBaseUrl, '/v1beta', path),
      headers,
      body: JSON.stringify(body),
      signal: call.signal,
      headersTimeoutMs: call.network.requestTimeoutMs,
      bodyTimeoutMs: stream ? call.network.streamIdleTimeoutMs : (call.network.bodyIdleTimeoutMs ?? call.network.requestTimeoutMs),
      provider: this.kind,
      limits: call.network.bodyLimits,
    });
    if (res.status < 200 || res.status > 299) throw await upstreamStatusError(res, this.kind, geminiErrorDialect);
    return res;
  }
}

/** Gemini model names may be written `models/gemini-2.0-flash`; the URL wants the bare id. */
function modelId(model: string): string {
  return model.replace(/^models\//, '');
}
