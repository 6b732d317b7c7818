/**
 * A mock OpenAI API on 127.0.0.1 (random port) speaking the real wire format.
 * Use `mock.url` as `network_config.base_url` (Bifrost convention: no `/v1`).
 *
 *   POST /v1/chat/completions  non-streaming, or SSE with `stream: true` (word chunks, finish chunk,
 *                              a usage chunk when `stream_options.include_usage`, then `[DONE]`);
 *                              answers `Echo: <last user text>` (`[N image(s)]` appended when images were
 *                              sent), `Tool result: <content>` after a `tool` message, or a tool call
 *                              `{"input": <prompt>}` when the prompt names an offered tool or tool_choice forces one;
 *                              `max_tokens` / `max_completion_tokens` smaller than the answer → finish_reason `length`
 *   POST /v1/completions       `Echo: <prompt>`, streaming too
 *   POST /v1/embeddings        stable unit vectors (`dimensions`, default 8), `encoding_format: base64` honoured
 *   GET  /v1/models            `opts.models` (default gpt-4o-mini, gpt-4o, text-embedding-3-small)
 * Keys: `Authorization: Bearer <key>`; with `keys` set, others get 401 `invalid_api_key`.
 * Faults, recording and socket counting: see mock-server.ts.
 *
 *   const mock = await startOpenAIUpstream({ keys: ['k1', 'k2'] });
 *   mock.enqueue({ status: 500 });            // next request fails, then normal answers
 *   mock.failKey('k1', { status: 429, retryAfter: 1 });
 */
import { sse, startMockServer, type Dialect, type MockOptions, type MockUpstream, type RecordedRequest, type Reply } from './mock-server.js';
import { limitWords, mockId, pickTool, pieces, vector, words } from './echo.js';

export type { Fault, MockUpstream, RecordedRequest } from './mock-server.js';

export interface OpenAIMockOptions extends MockOptions { models?: string[] }

const ERROR_TYPE: Record<number, [string, string | null]> = {
  400: ['invalid_request_error', null], 401: ['invalid_request_error', 'invalid_api_key'], 403: ['permission_error', null],
  404: ['invalid_request_error', 'model_not_found'], 429: ['rate_limit_exceeded', 'rate_limit_exceeded'], 500: ['server_error', null],
  503: ['server_error', null],
};

function errorBody(status: number, message?: string, type?: string): unknown {
  const [t, code] = ERROR_TYPE[status] ?? [status >= 500 ? 'server_error' : 'invalid_request_error', null];
  return { error: { message: message ?? `mock error ${status}`, type: type ?? t, param: null, code } };
}

function fail(status: number, message: string): Reply {
  return { kind: 'json', status, body: errorBody(status, message) };
}

export async function startOpenAIUpstream(opts: OpenAIMockOptions = {}): Promise<MockUpstream> {
  const models = opts.models ?? ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small'];
  const dialect: Dialect = {
    keyOf: (req) => /^Bearer (.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1],
    authError: (key) => fail(401, `Incorrect API key provided: ${key ?? '(none)'}.`),
    errorBody,
    errorEvent: (message, type) => sse({ error: { message: message ?? 'mock stream error', type: type ?? 'server_error', param: null, code: null } }),
    route(rec) {
      const route = `${rec.method} ${rec.path}`;
      if (route === 'GET /v1/models') {
        return { kind: 'json', body: { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 1700000000, owned_by: 'mock' })) } };
      }
      if (rec.method === 'POST' && rec.body === undefined) return fail(400, 'We could not parse the JSON body of your request.');
      if (route === 'POST /v1/chat/completions') return chat(rec);
      if (route === 'POST /v1/completions') return completion(rec);
      if (route === 'POST /v1/embeddings') return embeddings(rec);
      return fail(404, `Invalid URL (${rec.method} ${rec.path})`);
    },
  };
  return startMockServer(dialect, opts);
}

type Msg = { role?: string; content?: unknown; tool_calls?: unknown[] };

function textOf(content: unknown): { text: string; images: number } {
  if (typeof content === 'string') return { text: content, images: 0 };
  if (!Array.isArray(content)) return { text: '', images: 0 };
  const text = content.filter((p) => p?.type === 'text').map((p) => String(p.text)).join(' ');
  return { text, images: content.filter((p) => p?.type === 'image_url').length };
}

export function chat(rec: RecordedRequest): Reply {
  const b = rec.body as Record<string, any>;
  if (typeof b.model !== 'string') return fail(400, "you must provide a model parameter");
  if (!Array.isArray(b.messages) || b.messages.length === 0) return fail(400, "'messages' must contain at least one message");
  const messages = b.messages as Msg[];
  const last = messages[messages.length - 1] as Msg;
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const { text: prompt, images } = textOf(lastUser?.content);
  const names = Array.isArray(b.tools) ? b.tools.map((t: any) => String(t?.function?.name)) : [];
  const tool = last.role === 'tool' || b.tool_choice === 'none'
    ? undefined
    : pickTool(names, prompt, b.tool_choice?.function?.name, b.tool_choice === 'required');
  let answer = last.role === 'tool' ? `Tool result: ${textOf(last.content).text}` : `Echo: ${prompt}${images ? ` [${images} image(s)]` : ''}`;
  const limited = limitWords(answer, b.max_completion_tokens ?? b.max_tokens);
  answer = limited.text;
  const finish = tool ? 'tool_calls' : limited.cut ? 'length' : 'stop';
  const promptTokens = messages.reduce((n, m) => n + words(textOf(m.content).text), 0);
  const args = JSON.stringify({ input: prompt });
  const usage = { prompt_tokens: promptTokens, completion_tokens: tool ? words(args) : words(answer), total_tokens: 0 };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const id = mockId('chatcmpl-');
  const created = Math.floor(Date.now() / 1000);
  const callId = mockId('call_');

  if (b.stream !== true) {
    const message: Record<string, unknown> = { role: 'assistant', content: tool ? null : answer, refusal: null };
    if (tool) message.tool_calls = [{ id: callId, type: 'function', function: { name: tool, arguments: args } }];
    return { kind: 'json', body: { id, object: 'chat.completion', created, model: b.model, choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage, system_fingerprint: 'fp_mock' } };
  }
  const chunk = (delta: unknown, finishReason: string | null = null): string =>
    sse({ id, object: 'chat.completion.chunk', created, model: b.model, system_fingerprint: 'fp_mock', choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
  const events = [chunk({ role: 'assistant', content: '', refusal: null })];
  if (tool) {
    events.push(chunk({ tool_calls: [{ index: 0, id: callId, type: 'function', function: { name: tool, arguments: '' } }] }));
    const half = args.length >> 1;
    events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(0, half) } }] }));
    events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(half) } }] }));
  } else {
    for (const piece of pieces(answer)) events.push(chunk({ content: piece }));
  }
  events.push(chunk({}, finish));
  if (b.stream_options?.include_usage === true) {
    events.push(sse({ id, object: 'chat.completion.chunk', created, model: b.model, choices: [], usage }));
  }
  events.push(sse('[DONE]'));
  return { kind: 'sse', events, endMarkers: 1 };
}

function completion(rec: RecordedRequest): Reply {
  const b = rec.body as Record<string, any>;
  if (typeof b.model !== 'string') return fail(400, 'you must provide a model parameter');
  const prompt = Array.isArray(b.prompt) ? b.prompt.join('\n') : String(b.prompt ?? '');
  const text = `Echo: ${prompt}`;
  const id = mockId('cmpl-');
  const created = Math.floor(Date.now() / 1000);
  const usage = { prompt_tokens: words(prompt), completion_tokens: words(text), total_tokens: words(prompt) + words(text) };
  if (b.stream !== true) {
    return { kind: 'json', body: { id, object: 'text_completion', created, model: b.model, choices: [{ index: 0, text, logprobs: null, finish_reason: 'stop' }], usage } };
  }
  const ev = (t: string, finish: string | null): string => sse({ id, object: 'text_completion', created, model: b.model, choices: [{ index: 0, text: t, logprobs: null, finish_reason: finish }] });
  const events = pieces(text).map((p) => ev(p, null));
  events.push(ev('', 'stop'));
  if (b.stream_options?.include_usage === true) events.push(sse({ id, object: 'text_completion', created, model: b.model, choices: [], usage }));
  events.push(sse('[DONE]'));
  return { kind: 'sse', events, endMarkers: 1 };
}

export function embeddings(rec: RecordedRequest): Reply {
  const b = rec.body as Record<string, any>;
  const inputs: unknown[] = Array.isArray(b.input) ? b.input : [b.input];
  if (b.input === undefined || inputs.length === 0) return fail(400, "'input' is a required property");
  const dims = typeof b.dimensions === 'number' ? b.dimensions : 8;
  const data = inputs.map((input, index) => {
    const v = vector(typeof input === 'string' ? input : JSON.stringify(input), dims);
    const embedding = b.encoding_format === 'base64' ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v;
    return { object: 'embedding', index, embedding };
  });
  const tokens = inputs.reduce<number>((n, i) => n + (typeof i === 'string' ? words(i) : 1), 0);
  return { kind: 'json', body: { object: 'list', data, model: b.model, usage: { prompt_tokens: tokens, total_tokens: tokens } } };
}
