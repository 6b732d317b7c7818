import { GatewayError } from '../../schema/errors.js';
import type { LLMRequest, RequestType } from '../../schema/request.js';
import type { ClassicType } from '../provider.js';
import { attachRawBody, type LLMResponse } from '../../schema/response.js';
import { StreamChunk } from '../../schema/stream.js';
import type { ProviderAdapter, ProviderCall, ProviderResult } from '../provider.js';
import type { UpstreamResponse } from '../upstream-client.js';
import { readJsonWithText } from '../translate/upstream-body.js';
import { openAIErrorDialect, upstreamStatusError, type ErrorDialect } from '../translate/upstream-error.js';
import { sseEvents } from '../translate/sse-parse.js';
import { joinApiUrl, type CompatibleProvider } from './family.js';

const ENDPOINT: Record<ClassicType, string> = {
  chat_completion: '/chat/completions',
  text_completion: '/completions',
  embedding: '/embeddings',
};

const INPUT_FIELD: Record<ClassicType, string> = {
  chat_completion: 'messages',
  text_completion: 'prompt',
  embedding: 'input',
};

const RESPONSE_KEY: Record<ClassicType, keyof LLMResponse> = {
  chat_completion: 'chat_response',
  text_completion: 'text_completion_response',
  embedding: 'embedding_response',
};

/** The body an OpenAI-style server expects: the internal request is already nearly that. */
export function openAIBody(req: LLMRequest, model: string): string {
  return JSON.stringify({ model, [INPUT_FIELD[req.request_type as ClassicType]]: req.input, ...req.params });
}

/** Adapter for OpenAI and every server that speaks its API (groq, mistral, ollama, vllm...). */
export class OpenAIAdapter implements ProviderAdapter {
  readonly kind: string;
  readonly defaultBaseUrl: string;
  readonly requiresKey: boolean;
  readonly #apiPrefix: string;

  constructor(kind: string, family: CompatibleProvider) {
    this.kind = kind;
    this.defaultBaseUrl = family.baseUrl;
    this.requiresKey = family.requiresKey;
    this.#apiPrefix = family.apiPrefix;
  }

  supports(_type: RequestType): boolean {
    return true;
  }

  protected url(req: LLMRequest, call: ProviderCall): string {
    return joinApiUrl(call.network.baseUrl, this.#apiPrefix, ENDPOINT[req.request_type as ClassicType]);
  }

  protected headers(call: ProviderCall): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json', ...call.network.extraHeaders };
    if (call.key.value) h.authorization = `Bearer ${call.key.value}`;
    return h;
  }

  protected upstreamModel(req: LLMRequest, _call: ProviderCall): string {
    return req.model;
  }

  /** The body field that carries `input` for this request type. */
  protected inputField(req: LLMRequest): string {
    return INPUT_FIELD[req.request_type as ClassicType];
  }

  /** The upstream body; family members with their own spellings (mistral) override it. */
  protected body(req: LLMRequest, call: ProviderCall): string {
    return openAIBody(req, this.upstreamModel(req, call));
  }

  protected errorDialect(): ErrorDialect {
    return openAIErrorDialect;
  }

  async send(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    const stream = req.params.stream === true;
    const res = await call.http.request({
      url: this.url(req, call),
      headers: this.headers(call),
      body: this.body(req, call),
      signal: call.signal,
      headersTimeoutMs: call.network.requestTimeoutMs,
      bodyTimeoutMs: stream ? call.network.streamIdleTimeoutMs : (call.network.bodyIdleTimeoutMs ?? call.network.requestTimeoutMs),
      provider: this.kind,
      limits: call.network.bodyLimits,
    });
    if (res.status < 200 || res.status > 299) throw await upstreamStatusError(res, this.kind, this.errorDialect());
    if (stream) return { kind: 'stream', stream: openAIStream(res, this.kind) };
    const { value: body, text } = await readJsonWithText<Record<string, unknown>>(res, this.kind);
    if (body && typeof body === 'object' && body.error && !body.choices && !body.data) {
      throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${this.kind}: ${openAIErrorDialect(body).message ?? 'upstream error'}`, { provider: this.kind, retryable: true });
    }
    return { kind: 'response', response: attachRawBody({ [RESPONSE_KEY[req.request_type as ClassicType]]: body } as LLMResponse, text) };
  }
}

/**
 * An OpenAI SSE body as chunks. The JSON text is handed on unparsed; only events that look like an
 * error object are parsed, to surface `{"error":...}` sent with a 200 status. No `[DONE]` before
 * the body ends means the upstream died mid-stream. The first event is parsed once (a bad one is
 * still retryable: nothing has reached the client); every event must at least be framed as an
 * object, an O(1) check that catches cut or garbage events without per-chunk JSON work.
 */
const ERROR_EVENT = /^\s*\{\s*"error"\s*:/;

export async function* openAIStream(res: UpstreamResponse, provider: string): AsyncGenerator<StreamChunk> {
  let first = true;
  const ctl = { atEnd: false };
  for await (const ev of sseEvents(res.body, provider, ctl, res.limits.maxEventBytes)) {
    const data = ev.data;
    if (data === '[DONE]') {
      ctl.atEnd = true;
      return;
    }
    if (data.length === 0) continue;
    if (ev.event === 'error' || ERROR_EVENT.test(data)) throw streamError(data, provider);
    if (!framedAsObject(data) || (first && !parses(data))) {
      throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${provider}: stream event is not valid JSON`, { provider, retryable: true });
    }
    first = false;
    yield StreamChunk.fromJson(data);
  }
  throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${provider}: stream ended before [DONE]`, { provider, retryable: true });
}

/** First and last non-blank characters are `{` and `}`. */
function framedAsObject(s: string): boolean {
  let i = 0;
  let j = s.length - 1;
  while (i < j && s.charCodeAt(i) <= 32) i++;
  while (j > i && s.charCodeAt(j) <= 32) j--;
  return s.charCodeAt(i) === 123 && s.charCodeAt(j) === 125;
}

function parses(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

function streamError(data: string, provider: string): GatewayError {
  let message = 'upstream sent an error event';
  let code: string | null | undefined;
  try {
    const parsed = openAIErrorDialect(JSON.parse(data));
    message = parsed.message ?? message;
    code = parsed.code;
  } catch {
    /* keep the generic message */
  }
  return new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${provider}: ${message}`, { provider, retryable: true, upstreamCode: code });
}
