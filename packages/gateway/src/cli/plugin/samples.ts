/**
 * Sample inputs for every hook, shipped with the CLI (`gatehouse plugin run --input sample`) and
 * used as the canonical inputs of `gatehouse plugin test`. Each is the full JSON document the
 * gateway passes to the hook (contract 3.3): a chat completion request to the mock provider.
 */

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64');

export const SAMPLE_CONTEXT = { request_id: 'sample-0001' };

const CHAT_BODY = { model: 'mock/mock-model', messages: [{ role: 'user', content: 'Hello, plugin!' }] };

export const SAMPLE_HTTP_REQUEST = {
  method: 'POST',
  path: '/v1/chat/completions',
  headers: { 'content-type': 'application/json', authorization: 'Bearer sk-sample', 'x-api-key': 'sample-key' },
  query: {},
  path_params: {},
  body: b64(CHAT_BODY),
};

const COMPLETION = {
  id: 'chatcmpl-sample',
  object: 'chat.completion',
  created: 1700000000,
  model: 'mock-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello, caller!' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
};

const CHUNK = {
  id: 'chatcmpl-sample',
  object: 'chat.completion.chunk',
  created: 1700000000,
  model: 'mock-model',
  choices: [{ index: 0, delta: { content: 'Hello' }, finish_reason: null }],
};

/** Hook name -> input document. `http_intercept` (v1.3) takes what `http_pre_hook` takes. */
export const SAMPLES: Record<string, Record<string, unknown>> = {
  http_pre_hook: { context: SAMPLE_CONTEXT, request: SAMPLE_HTTP_REQUEST },
  http_intercept: { context: SAMPLE_CONTEXT, request: SAMPLE_HTTP_REQUEST },
  pre_hook: {
    context: SAMPLE_CONTEXT,
    request: {
      request_type: 'chat_completion',
      provider: 'mock',
      model: 'mock-model',
      input: CHAT_BODY.messages,
      params: { temperature: 0.2 },
      fallbacks: [{ provider: 'openai', model: 'gpt-4o-mini' }],
    },
  },
  post_hook: { context: SAMPLE_CONTEXT, response: { chat_response: COMPLETION }, error: {}, has_error: false },
  http_stream_chunk_hook: { context: SAMPLE_CONTEXT, request: SAMPLE_HTTP_REQUEST, chunk: CHUNK },
  http_post_hook: {
    context: SAMPLE_CONTEXT,
    request: SAMPLE_HTTP_REQUEST,
    response: { status_code: 200, headers: { 'content-type': 'application/json' }, body: b64(COMPLETION) },
  },
};

/** A second post_hook input: the provider failed. Conformance calls both. */
export const SAMPLE_POST_ERROR = {
  context: SAMPLE_CONTEXT,
  response: null,
  error: { status_code: 503, error: { message: 'upstream unavailable', type: 'server_error', code: '503' }, allow_fallbacks: true },
  has_error: true,
};

export function sampleFor(hook: string): Record<string, unknown> {
  const s = SAMPLES[hook];
  if (!s) throw new Error(`no sample input for hook "${hook}"; hooks: ${Object.keys(SAMPLES).join(', ')}`);
  return structuredClone(s);
}
