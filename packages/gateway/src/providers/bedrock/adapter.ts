import { GatewayError } from '../../schema/errors.js';
import type { LLMRequest, RequestType } from '../../schema/request.js';
import type { ProviderAdapter, ProviderCall, ProviderKey, ProviderResult } from '../provider.js';
import type { UpstreamResponse } from '../upstream-client.js';
import { includeUsage } from '../translate/params.js';
import { completeViaChat } from '../translate/text-completion.js';
import { readJson } from '../translate/upstream-body.js';
import { upstreamStatusError } from '../translate/upstream-error.js';
import { cohereBody, embedFamily, embedInputs, embeddingList, isVector, titanBody } from './embeddings.js';
import { bedrockKey, bedrockKeyProblem, bedrockModelId, type BedrockKey } from './key-config.js';
import { converseBody } from './request.js';
import { awsErrorType, bedrockErrorDialect, converseToChat, type ConverseResponse } from './response.js';
import { signedHeaders } from './sign.js';
import { converseStream } from './stream.js';

/**
 * AWS Bedrock runtime: chat through Converse / ConverseStream (every chat model, Anthropic's
 * included, one format), embeddings through InvokeModel (Titan, Cohere), text completions as a
 * one-message chat. Requests are SigV4-signed with the key's `bedrock_key_config`; the region
 * picks the endpoint unless `network_config.base_url` overrides it.
 */
export class BedrockAdapter implements ProviderAdapter {
  readonly kind = 'bedrock';
  readonly defaultBaseUrl = '';
  readonly requiresKey = true;

  supports(type: RequestType): boolean {
    return type === 'chat_completion' || type === 'text_completion' || type === 'embedding';
  }

  checkKey(key: ProviderKey): string | undefined {
    return bedrockKeyProblem(key);
  }

  async send(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    if (!this.supports(req.request_type)) {
      throw new GatewayError('GH_ERR_UNSUPPORTED_OPERATION', `bedrock does not support ${req.request_type}`, { provider: this.kind, allowFallbacks: true });
    }
    if (req.request_type === 'embedding') return this.#embed(req, call);
    if (req.request_type === 'text_completion') return completeViaChat(req, this.kind, (r) => this.#chat(r, call));
    return this.#chat(req, call);
  }

  async #chat(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    const key = bedrockKey(call.key);
    const stream = req.params.stream === true;
    const body = converseBody(req, this.kind);
    const res = await this.#post(call, key, req.model, stream ? 'converse-stream' : 'converse', body, stream);
    if (stream) return { kind: 'stream', stream: converseStream(res, this.kind, req.model, includeUsage(req.params)) };
    const out = await readJson<ConverseResponse>(res, this.kind);
    if (!out || typeof out !== 'object' || !out.output?.message) {
      throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${this.kind}: upstream answered without an output message`, { provider: this.kind, retryable: true });
    }
    return { kind: 'response', response: { chat_response: converseToChat(out, req.model) } };
  }

  async #embed(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    const key = bedrockKey(call.key);
    const family = embedFamily(bedrockModelId(req.model, key));
    if (!family) {
      throw new GatewayError('GH_ERR_UNSUPPORTED_OPERATION', `${this.kind}: no embeddings format known for model "${req.model}" (Titan and Cohere embedding models are)`, { provider: this.kind, param: 'model' });
    }
    const inputs = embedInputs(req, this.kind);
    const base64 = req.params.encoding_format === 'base64';
    const bad = (): GatewayError => new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${this.kind}: upstream answered without the expected embeddings`, { provider: this.kind, retryable: true });
    if (family === 'cohere') {
      const res = await this.#post(call, key, req.model, 'invoke', cohereBody(inputs, req), false);
      const tokens = Number(res.headers['x-amzn-bedrock-input-token-count'] ?? 0) || 0;
      const out = await readJson<{ embeddings?: unknown }>(res, this.kind);
      const list = Array.isArray(out?.embeddings) ? out.embeddings : (out?.embeddings as { float?: unknown } | undefined)?.float;
      if (!Array.isArray(list) || list.length !== inputs.length || !list.every(isVector)) throw bad();
      return { kind: 'response', response: { embedding_response: embeddingList(list, req.model, tokens, base64) } };
    }
    // Titan takes one text per call: the inputs go out side by side.
    const answers = await Promise.all(inputs.map(async (text) => {
      const res = await this.#post(call, key, req.model, 'invoke', titanBody(text, req), false);
      return readJson<{ embedding?: unknown; inputTextTokenCount?: number }>(res, this.kind);
    }));
    const vectors = answers.map((a) => a?.embedding);
    if (!vectors.every(isVector)) throw bad();
    const tokens = answers.reduce((n, a) => n + (typeof a?.inputTextTokenCount === 'number' ? a.inputTextTokenCount : 0), 0);
    return { kind: 'response', response: { embedding_response: embeddingList(vectors, req.model, tokens, base64) } };
  }

  async #post(call: ProviderCall, key: BedrockKey, model: string, action: string, body: unknown, stream: boolean): Promise<UpstreamResponse> {
    const base = (call.network.baseUrl || `https://bedrock-runtime.${key.region}.amazonaws.com`).replace(/\/+$/, '');
    const url = new URL(`${base}/model/${encodeURIComponent(bedrockModelId(model, key))}/${action}`);
    const text = JSON.stringify(body);
    const accept = stream ? 'application/vnd.amazon.eventstream' : 'application/json';
    const signed = await signedHeaders(key, url, text, { 'content-type': 'application/json', accept });
    const res = await call.http.request({
      url: url.href,
      headers: { ...call.network.extraHeaders, ...signed },
      body: text,
      signal: call.signal,
      headersTimeoutMs: call.network.requestTimeoutMs,
      bodyTimeoutMs: stream ? call.network.streamIdleTimeoutMs : call.network.requestTimeoutMs,
      provider: this.kind,
    });
    if (res.status < 200 || res.status > 299) {
      const type = awsErrorType(res.headers);
      throw await upstreamStatusError(res, this.kind, (b) => ({ ...bedrockErrorDialect(b), ...(type ? { code: type } : {}) }));
    }
    return res;
  }
}
