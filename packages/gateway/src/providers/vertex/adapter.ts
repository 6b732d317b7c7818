import { GatewayError } from '../../schema/errors.js';
import type { EmbeddingResponse } from '../../schema/openai.js';
import type { LLMRequest, RequestType } from '../../schema/request.js';
import { anthropicBody } from '../anthropic/request.js';
import { anthropicErrorDialect, anthropicToChat } from '../anthropic/response.js';
import { anthropicStream } from '../anthropic/stream.js';
import { geminiBody } from '../gemini/request.js';
import { geminiErrorDialect, geminiToChat, type GeminiResponse } from '../gemini/response.js';
import { geminiStream } from '../gemini/stream.js';
import type { ProviderAdapter, ProviderCall, ProviderKey, ProviderResult } from '../provider.js';
import type { UpstreamResponse } from '../upstream-client.js';
import { includeUsage, numberParam } from '../translate/params.js';
import { completeViaChat } from '../translate/text-completion.js';
import { discard, readJson } from '../translate/upstream-body.js';
import { upstreamStatusError, type ErrorDialect } from '../translate/upstream-error.js';
import { vertexKey, vertexKeyProblem, type ServiceAccount, type VertexKey } from './key-config.js';
import { TokenCache } from './token.js';

/** Anthropic's Messages API as Vertex hosts it: the version goes in the body, the model in the URL. */
const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

/** Platform errors are Google's `{"error":{code,message,status}}`; a Claude model's own are Anthropic's. */
const vertexErrorDialect: ErrorDialect = (body) => {
  const g = geminiErrorDialect(body);
  return g.message ? g : anthropicErrorDialect(body);
};

/**
 * Google Vertex AI: Gemini models through generateContent / streamGenerateContent (`alt=sse`),
 * Claude models through rawPredict / streamRawPredict (Anthropic's format), embeddings through
 * predict. Auth is a service account's OAuth2 token (see token.ts); the region picks the host
 * (`global` → aiplatform.googleapis.com) unless `network_config.base_url` overrides it.
 */
export class VertexAdapter implements ProviderAdapter {
  readonly kind = 'vertex';
  readonly defaultBaseUrl = '';
  readonly requiresKey = true;
  readonly tokens = new TokenCache();

  supports(type: RequestType): boolean {
    return type === 'chat_completion' || type === 'text_completion' || type === 'embedding';
  }

  checkKey(key: ProviderKey): string | undefined {
    return vertexKeyProblem(key);
  }

  async send(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    if (!this.supports(req.request_type)) {
      throw new GatewayError('GH_ERR_UNSUPPORTED_OPERATION', `vertex does not support ${req.request_type}`, { provider: this.kind, allowFallbacks: true });
    }
    if (req.request_type === 'embedding') return this.#embed(req, call);
    if (req.request_type === 'text_completion') return completeViaChat(req, this.kind, (r) => this.#chat(r, call));
    return this.#chat(req, call);
  }

  async #chat(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    const key = vertexKey(call.key);
    const model = key.deployments[req.model] ?? req.model;
    const stream = req.params.stream === true;
    if (isClaude(model)) {
      const { model: _inUrl, ...rest } = anthropicBody({ ...req, model });
      const body = { anthropic_version: VERTEX_ANTHROPIC_VERSION, ...rest };
      const res = await this.#post(call, key, 'anthropic', model, stream ? 'streamRawPredict' : 'rawPredict', body, stream);
      if (stream) return { kind: 'stream', stream: anthropicStream(res, this.kind, req.model, includeUsage(req.params)) };
      const out = await readJson<Record<string, unknown>>(res, this.kind);
      if (!out || typeof out !== 'object' || !Array.isArray(out.content)) throw badResponse(this.kind, vertexErrorDialect(out).message ?? 'upstream answered without a message');
      return { kind: 'response', response: { chat_response: anthropicToChat(out, req.model) } };
    }
    const res = await this.#post(call, key, 'google', model, stream ? 'streamGenerateContent?alt=sse' : 'generateContent', geminiBody(req), stream);
    if (stream) return { kind: 'stream', stream: geminiStream(res, this.kind, req.model, includeUsage(req.params)) };
    const out = await readJson<GeminiResponse & { error?: unknown }>(res, this.kind);
    if (!out || typeof out !== 'object' || out.error || (!out.candidates && !out.promptFeedback)) {
      throw badResponse(this.kind, geminiErrorDialect(out).message ?? 'upstream answered without candidates');
    }
    return { kind: 'response', response: { chat_response: geminiToChat(out, req.model) } };
  }

  async #embed(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    const key = vertexKey(call.key);
    const model = key.deployments[req.model] ?? req.model;
    const inputs = typeof req.input === 'string' ? [req.input] : (req.input as unknown[]);
    if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((x) => typeof x === 'string')) {
      throw new GatewayError('GH_ERR_INVALID_REQUEST', `${this.kind}: embeddings take a string or a list of strings (token ids are not supported)`, { provider: this.kind, param: 'input' });
    }
    const dims = numberParam(req.params, 'dimensions');
    const body = { instances: (inputs as string[]).map((content) => ({ content })), ...(dims !== undefined ? { parameters: { outputDimensionality: dims } } : {}) };
    const res = await this.#post(call, key, 'google', model, 'predict', body, false);
    const out = await readJson<{ predictions?: Array<{ embeddings?: { values?: unknown; statistics?: { token_count?: number } } }> }>(res, this.kind);
    const preds = out?.predictions;
    if (!Array.isArray(preds) || preds.length !== inputs.length || !preds.every((p) => Array.isArray(p?.embeddings?.values))) {
      throw badResponse(this.kind, 'upstream answered without the expected embeddings');
    }
    const base64 = req.params.encoding_format === 'base64';
    const tokens = preds.reduce((n, p) => n + (p.embeddings?.statistics?.token_count ?? 0), 0);
    const data: EmbeddingResponse['data'] = preds.map((p, index) => {
      const v = p.embeddings!.values as number[];
      return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v };
    });
    return { kind: 'response', response: { embedding_response: { object: 'list', data, model: req.model, usage: { prompt_tokens: tokens, total_tokens: tokens } } } };
  }

  /** One call with the account's token; a 401 drops that token and the call is made once more with a fresh one. */
  async #post(call: ProviderCall, key: VertexKey, publisher: string, model: string, method: string, body: unknown, stream: boolean): Promise<UpstreamResponse> {
    const account = key.account as ServiceAccount;
    const base = (call.network.baseUrl || (key.region === 'global' ? 'https://aiplatform.googleapis.com' : `https://${key.region}-aiplatform.googleapis.com`)).replace(/\/+$/, '');
    const url = `${base}/v1/projects/${encodeURIComponent(key.projectId)}/locations/${encodeURIComponent(key.region)}/publishers/${publisher}/models/${encodeURIComponent(model)}:${method}`;
    const text = JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      const token = await this.tokens.token(account, call, this.kind);
      const res = await call.http.request({
        url,
        headers: { 'content-type': 'application/json', ...call.network.extraHeaders, authorization: `Bearer ${token}` },
        body: text,
        signal: call.signal,
        headersTimeoutMs: call.network.requestTimeoutMs,
        bodyTimeoutMs: stream ? call.network.streamIdleTimeoutMs : call.network.requestTimeoutMs,
        provider: this.kind,
      });
      if (res.status === 401 && attempt === 0) {
        await discard(res);
        this.tokens.invalidate(account, token);
        continue;
      }
      if (res.status < 200 || res.status > 299) throw await upstreamStatusError(res, this.kind, vertexErrorDialect);
      return res;
    }
  }
}

function isClaude(model: string): boolean {
  return /^claude/i.test(model);
}

function badResponse(provider: string, message: string): GatewayError {
  return new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${provider}: ${message}`, { provider, retryable: true });
}
