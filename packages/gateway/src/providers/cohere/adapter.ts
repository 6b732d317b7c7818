import { GatewayError } from '../../schema/errors.js';
import type { EmbeddingResponse } from '../../schema/openai.js';
import type { LLMRequest, RequestType, RerankInput } from '../../schema/request.js';
import type { RerankResponse } from '../../schema/media.js';
import type { ProviderAdapter, ProviderCall, ProviderResult } from '../provider.js';
import type { UpstreamResponse } from '../upstream-client.js';
import { includeUsage, numberParam } from '../translate/params.js';
import { completeViaChat } from '../translate/text-completion.js';
import { readJson } from '../translate/upstream-body.js';
import { upstreamStatusError } from '../translate/upstream-error.js';
import { cohereChatBody } from './request.js';
import { cohereErrorDialect, cohereToChat, type CohereChatResponse } from './response.js';
import { cohereStream } from './stream.js';

/**
 * Cohere API v2: chat (`/v2/chat`, SSE when streaming), embeddings (`/v2/embed`), rerank
 * (`/v2/rerank`, serves `/v1/rerank`); text completions as a one-message chat.
 * The key is a Bearer token.
 */
export class CohereAdapter implements ProviderAdapter {
  readonly kind = 'cohere';
  readonly defaultBaseUrl = 'https://api.cohere.com';
  readonly requiresKey = true;

  supports(type: RequestType): boolean {
    return type === 'chat_completion' || type === 'text_completion' || type === 'embedding';
  }

  async send(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    if (req.request_type === 'embedding') return this.#embed(req, call);
    if (req.request_type === 'text_completion') return completeViaChat(req, this.kind, (r) => this.#chat(r, call));
    if (req.request_type !== 'chat_completion') {
      throw new GatewayError('GH_ERR_UNSUPPORTED_OPERATION', `cohere does not support ${req.request_type}`, { provider: this.kind, allowFallbacks: true });
    }
    return this.#chat(req, call);
  }

  async rerank(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    const input = req.input as RerankInput;
    const docs = (input?.documents ?? []).map((d) => (typeof d === 'string' ? d : d?.text));
    if (typeof input?.query !== 'string' || docs.length === 0 || !docs.every((d): d is string => typeof d === 'string')) {
      throw new GatewayError('GH_ERR_INVALID_REQUEST', `${this.kind}: rerank takes a query and a non-empty list of documents (strings or {text})`, { provider: this.kind, param: 'documents' });
    }
    const body: Record<string, unknown> = { model: req.model, query: input.query, documents: docs };
    const topN = numberParam(req.params, 'top_n');
    if (topN !== undefined) body.top_n = topN;
    const maxTokens = numberParam(req.params, 'max_tokens_per_doc');
    if (maxTokens !== undefined) body.max_tokens_per_doc = maxTokens;
    const res = await this.#post(call, '/v2/rerank', body, false);
    const out = await readJson<{ id?: string; results?: Array<{ index?: unknown; relevance_score?: unknown }>; meta?: { billed_units?: Record<string, unknown> } }>(res, this.kind);
    const results = out?.results;
    if (!Array.isArray(results) || !results.every((r) => Number.isInteger(r?.index) && typeof r?.relevance_score === 'number' && (r.index as number) < docs.length)) {
      throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${this.kind}: upstream answered without rerank results`, { provider: this.kind, retryable: true });
    }
    const withDocs = req.params.return_documents === true;
    const rerank: RerankResponse = {
      model: req.model,
      results: results.map((r) => ({
        index: r.index as number,
        relevance_score: r.relevance_score as number,
        ...(withDocs ? { document: { text: docs[r.index as number] as string } } : {}),
      })),
    };
    if (typeof out.id === 'string') rerank.id = out.id;
    if (out.meta?.billed_units) rerank.usage = out.meta.billed_units;
    return { kind: 'response', response: { rerank_response: rerank } };
  }

  async #chat(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    const stream = req.params.stream === true;
    const res = await this.#post(call, '/v2/chat', cohereChatBody(req), stream);
    if (stream) return { kind: 'stream', stream: cohereStream(res, this.kind, req.model, includeUsage(req.params)) };
    const out = await readJson<CohereChatResponse>(res, this.kind);
    if (!out || typeof out !== 'object' || !out.message) {
      throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${this.kind}: ${cohereErrorDialect(out).message ?? 'upstream answered without a message'}`, { provider: this.kind, retryable: true });
    }
    return { kind: 'response', response: { chat_response: cohereToChat(out, req.model) } };
  }

  async #embed(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    const inputs = typeof req.input === 'string' ? [req.input] : (req.input as unknown[]);
    if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((x) => typeof x === 'string')) {
      throw new GatewayError('GH_ERR_INVALID_REQUEST', `${this.kind}: embeddings take a string or a list of strings (token ids are not supported)`, { provider: this.kind, param: 'input' });
    }
    const body: Record<string, unknown> = {
      model: req.model,
      texts: inputs,
      input_type: typeof req.params.input_type === 'string' ? req.params.input_type : 'search_document',
      embedding_types: ['float'],
    };
    const dims = numberParam(req.params, 'dimensions');
    if (dims !== undefined) body.output_dimension = dims;
    const res = await this.#post(call, '/v2/embed', body, false);
    const out = await readJson<{ embeddings?: { float?: unknown }; meta?: { billed_units?: { input_tokens?: number } } }>(res, this.kind);
    const list = out?.embeddings?.float;
    if (!Array.isArray(list) || list.length !== inputs.length || !list.every((v) => Array.isArray(v) && v.every((x) => typeof x === 'number'))) {
      throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${this.kind}: upstream answered without the expected embeddings`, { provider: this.kind, retryable: true });
    }
    const base64 = req.params.encoding_format === 'base64';
    const tokens = out.meta?.billed_units?.input_tokens ?? 0;
    const data: EmbeddingResponse['data'] = (list as number[][]).map((v, index) => ({ object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v }));
    return { kind: 'response', response: { embedding_response: { object: 'list', data, model: req.model, usage: { prompt_tokens: tokens, total_tokens: tokens } } } };
  }

  async #post(call: ProviderCall, path: string, body: unknown, stream: boolean): Promise<UpstreamResponse> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json', ...call.network.extraHeaders };
    if (call.key.value) headers.authorization = `Bearer ${call.key.value}`;
    const base = (call.network.baseUrl || this.defaultBaseUrl).replace(/\/+$/, '').replace(/\/v\d+$/, '');
    const res = await call.http.request({
      url: `${base}${path}`,
      headers,
      body: JSON.stringify(body),
      signal: call.signal,
      headersTimeoutMs: call.network.requestTimeoutMs,
      bodyTimeoutMs: stream ? call.network.streamIdleTimeoutMs : call.network.requestTimeoutMs,
      provider: this.kind,
    });
    if (res.status < 200 || res.status > 299) throw await upstreamStatusError(res, this.kind, cohereErrorDialect);
    return res;
  }
}
