/**
 * A mock Mistral API (La Plateforme) on 127.0.0.1 (random port): OpenAI's wire format with
 * Mistral's differences, as its API reference gives them. Use `mock.url` as `network_config.base_url`.
 *
 *   POST /v1/chat/completions   answers as the OpenAI mock does; refuses (422) fields Mistral does not
 *                               have: `seed` (Mistral: random_seed), `max_completion_tokens`, `stream_options`, `user`
 *   POST /v1/embeddings         {model, input, output_dimension?, output_dtype?, encoding_format?}; `dimensions` → 422
 * Errors are Mistral's: `{"object":"error","message","type","param","code"}`; a validation failure
 * (422) carries `{"detail":[{"type","loc","msg"}]}` as its message, as FastAPI does.
 * Keys: `Authorization: Bearer`; with `keys` set, others get 401 "Unauthorized".
 */
import { chat, embeddings } from './openai-upstream.js';
import { startMockServer, type Dialect, type MockOptions, type MockUpstream, type RecordedRequest, type Reply } from './mock-server.js';

export type { Fault, MockUpstream, RecordedRequest } from './mock-server.js';

const TYPE: Record<number, string> = { 400: 'invalid_request_error', 401: 'authentication_error', 422: 'invalid_request_error', 429: 'rate_limit_error', 500: 'server_error' };

function errorBody(status: number, message?: unknown, type?: string): unknown {
  return { object: 'error', message: message ?? `mock error ${status}`, type: type ?? TYPE[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error'), param: null, code: status === 429 ? '1300' : null };
}

function extraForbidden(rec: RecordedRequest, fields: string[]): Reply | undefined {
  const extra = fields.filter((f) => f in (rec.body as object));
  if (extra.length === 0) return undefined;
  const detail = extra.map((f) => ({ type: 'extra_forbidden', loc: ['body', f], msg: 'Extra inputs are not permitted', input: (rec.body as Record<string, unknown>)[f] }));
  return { kind: 'json', status: 422, body: errorBody(422, { detail }) };
}

export async function startMistralUpstream(opts: MockOptions = {}): Promise<MockUpstream> {
  const dialect: Dialect = {
    keyOf: (req) => /^Bearer (.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1],
    authError: () => ({ kind: 'json', status: 401, body: { detail: 'Unauthorized' } }),
    errorBody: (status, message, type) => errorBody(status, message, type),
    errorEvent: (message) => `data: ${JSON.stringify(errorBody(500, message ?? 'Service unavailable'))}\n\n`,
    route(rec) {
      if (rec.method === 'POST' && rec.body === undefined) return { kind: 'json', status: 400, body: errorBody(400, 'Invalid JSON body') };
      if (rec.method === 'POST' && rec.path === '/v1/chat/completions') {
        return extraForbidden(rec, ['seed', 'max_completion_tokens', 'stream_options', 'user']) ?? chat({ ...rec, body: { ...rec.body, stream_options: rec.body.stream ? { include_usage: true } : undefined } });
      }
      if (rec.method === 'POST' && rec.path === '/v1/embeddings') {
        const bad = extraForbidden(rec, ['dimensions', 'user']);
        if (bad) return bad;
        const { output_dimension, ...rest } = rec.body as Record<string, unknown>;
        return embeddings({ ...rec, body: { ...rest, ...(output_dimension !== undefined ? { dimensions: output_dimension } : {}) } });
      }
      return { kind: 'json', status: 404, body: { detail: 'Not Found' } };
    },
  };
  return startMockServer(dialect, opts);
}
