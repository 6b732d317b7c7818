import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { AnthropicAdapter } from '../../../packages/gateway/src/providers/anthropic/adapter.js';
import { DEFAULT_MAX_TOKENS } from '../../../packages/gateway/src/providers/anthropic/request.js';
import type { ChatMessage, TextCompletion } from '../../../packages/gateway/src/schema/openai.js';
import { startAnthropicUpstream, type MockUpstream } from '../../mocks/anthropic-upstream.js';
import { callFor, chat, chatReq, collect, http, PNG_DATA_URL, rejection, req, response, streamedText, streamedToolCalls, weatherTool } from './helpers.js';

const adapter = new AnthropicAdapter();
let mock: MockUpstream;

before(async () => { mock = await startAnthropicUpstream(); });
beforeEach(() => mock.reset());
after(async () => { await http.close(); await mock.close(); });

const hello: ChatMessage[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'developer', content: 'Never apologise.' },
  { role: 'user', content: 'hello world' },
];

test('chat: system prompt, required max_tokens, headers and URL; response becomes a chat.completion', async () => {
  const out = chat(await adapter.send(chatReq(hello), callFor(mock.url, { key: 'sk-ant-1' })));
  const rec = mock.requests[0]!;
  assert.equal(rec.path, '/v1/messages');
  assert.equal(rec.headers['x-api-key'], 'sk-ant-1');
  assert.equal(rec.headers['anthropic-version'], '2023-06-01');
  assert.equal(rec.headers.authorization, undefined);
  assert.deepEqual(rec.body.system, [{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Never apologise.' }]);
  assert.equal(rec.body.max_tokens, DEFAULT_MAX_TOKENS);
  assert.deepEqual(rec.body.messages, [{ role: 'user', content: [{ type: 'text', text: 'hello world' }] }]);
  assert.equal(out.object, 'chat.completion');
  assert.match(out.id, /^msg_/);
  assert.deepEqual(out.choices[0]!.message, { role: 'assistant', content: 'Echo: hello world' });
  assert.equal(out.choices[0]!.finish_reason, 'stop');
  assert.equal(out.usage!.completion_tokens, 3);
  assert.equal(out.usage!.total_tokens, out.usage!.prompt_tokens + 3);
});

test('a base_url that already ends in /v1 is not doubled', async () => {
  await adapter.send(chatReq(hello), callFor(`${mock.url}/v1/`));
  assert.equal(mock.requests[0]!.path, '/v1/messages');
});

test('parameters: temperature clamped to 0..1, stop → stop_sequences, max_completion_tokens; small budget → length', async () => {
  const out = chat(await adapter.send(chatReq([{ role: 'user', content: 'one two three four' }], {
    temperature: 1.7, top_p: 0.5, stop: 'END', max_completion_tokens: 2, user: 'u-42',
  }), callFor(mock.url)));
  const body = mock.requests[0]!.body;
  assert.equal(body.temperature, 1);
  assert.equal(body.top_p, 0.5);
  assert.deepEqual(body.stop_sequences, ['END']);
  assert.equal(body.max_tokens, 2);
  assert.deepEqual(body.metadata, { user_id: 'u-42' });
  assert.equal(out.choices[0]!.finish_reason, 'length');
  assert.equal(out.choices[0]!.message.content, 'Echo: one');
});

test('response_format json becomes a system instruction (Anthropic has no JSON mode)', async () => {
  await adapter.send(chatReq([{ role: 'user', content: 'hi' }], { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } } }), callFor(mock.url));
  const system = mock.requests[0]!.body.system as string;
  assert.match(system, /JSON/);
  assert.match(system, /"type":"object"/);
});

test('tools: definitions and tool_choice translated; a tool_use answer becomes tool_calls', async () => {
  const out = chat(await adapter.send(chatReq([{ role: 'user', content: 'call get_weather for Paris' }], {
    tools: [weatherTool], tool_choice: 'required', parallel_tool_calls: false,
  }), callFor(mock.url)));
  const body = mock.requests[0]!.body;
  assert.deepEqual(body.tools, [{ name: 'get_weather', description: 'Weather for a city', input_schema: weatherTool.function.parameters }]);
  assert.deepEqual(body.tool_choice, { type: 'any', disable_parallel_tool_use: true });
  const msg = out.choices[0]!.message;
  assert.equal(out.choices[0]!.finish_reason, 'tool_calls');
  assert.equal(msg.content, 'Calling a tool.');
  assert.equal(msg.tool_calls!.length, 1);
  assert.match(msg.tool_calls![0]!.id, /^toolu_/);
  assert.equal(msg.tool_calls![0]!.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(msg.tool_calls![0]!.function.arguments), { input: 'call get_weather for Paris' });

  await adapter.send(chatReq([{ role: 'user', content: 'x' }], { tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'get_weather' } } }), callFor(mock.url));
  assert.deepEqual(mock.requests[1]!.body.tool_choice, { type: 'tool', name: 'get_weather' });
});

test('tool round trip: assistant tool_calls → tool_use blocks, consecutive tool messages → one user turn of tool_result', async () => {
  const input: ChatMessage[] = [
    { role: 'user', content: 'weather in Paris and Rome?' },
    { role: 'assistant', content: null, tool_calls: [
      { id: 'toolu_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'toolu_b', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
    ] },
    { role: 'tool', tool_call_id: 'toolu_a', content: 'sunny' },
    { role: 'tool', tool_call_id: 'toolu_b', content: [{ type: 'text', text: 'rainy' }] },
  ];
  const out = chat(await adapter.send(chatReq(input, { tools: [weatherTool] }), callFor(mock.url)));
  const messages = mock.requests[0]!.body.messages;
  assert.equal(messages.length, 3);
  assert.deepEqual(messages[1], { role: 'assistant', content: [
    { type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: { city: 'Paris' } },
    { type: 'tool_use', id: 'toolu_b', name: 'get_weather', input: { city: 'Rome' } },
  ] });
  assert.deepEqual(messages[2], { role: 'user', content: [
    { type: 'tool_result', tool_use_id: 'toolu_a', content: 'sunny' },
    { type: 'tool_result', tool_use_id: 'toolu_b', content: [{ type: 'text', text: 'rainy' }] },
  ] });
  assert.equal(out.choices[0]!.message.content, 'Tool result: sunny');
});

test('images: data URLs become base64 sources, http URLs url sources', async () => {
  const out = chat(await adapter.send(chatReq([{ role: 'user', content: [
    { type: 'text', text: 'what is this' },
    { type: 'image_url', image_url: { url: PNG_DATA_URL } },
    { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
  ] }]), callFor(mock.url)));
  const content = mock.requests[0]!.body.messages[0].content;
  assert.deepEqual(content[1], { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_DATA_URL.split(',')[1] } });
  assert.deepEqual(content[2], { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } });
  assert.equal(out.choices[0]!.message.content, 'Echo: what is this [2 image(s)]');
});

test('stream: role chunk first, text deltas, finish chunk, then the usage chunk', async () => {
  const { chunks, error } = await collect(await adapter.send(chatReq(hello, { stream: true, stream_options: { include_usage: true } }), callFor(mock.url)));
  assert.equal(error, undefined);
  assert.equal(mock.requests[0]!.body.stream, true);
  assert.deepEqual(chunks[0]!.choices[0]!.delta, { role: 'assistant', content: '' });
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]!.id && c.id.startsWith('msg_')));
  assert.ok(chunks.length >= 6, `expected several chunks, got ${chunks.length}`);
  assert.equal(streamedText(chunks), 'Echo: hello world');
  const finish = chunks[chunks.length - 2]!;
  assert.equal(finish.choices[0]!.finish_reason, 'stop');
  const usage = chunks[chunks.length - 1]!;
  assert.deepEqual(usage.choices, []);
  assert.equal(usage.usage!.completion_tokens, 3);
  assert.ok(usage.usage!.prompt_tokens > 0);
});

test('stream without include_usage has no usage chunk', async () => {
  const { chunks } = await collect(await adapter.send(chatReq(hello, { stream: true }), callFor(mock.url)));
  assert.equal(chunks[chunks.length - 1]!.choices[0]!.finish_reason, 'stop');
  assert.ok(chunks.every((c) => !c.usage));
});

test('stream with a tool call: id and name first, then argument fragments; Anthropic block index 1 is tool index 0', async () => {
  const { chunks, error } = await collect(await adapter.send(chatReq([{ role: 'user', content: 'use get_weather' }], { stream: true, tools: [weatherTool] }), callFor(mock.url)));
  assert.equal(error, undefined);
  const calls = streamedToolCalls(chunks);
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.name, 'get_weather');
  assert.match(calls[0]!.id, /^toolu_/);
  assert.deepEqual(JSON.parse(calls[0]!.arguments), { input: 'use get_weather' });
  const argChunks = chunks.filter((c) => c.choices[0]?.delta.tool_calls?.[0]?.function?.arguments);
  assert.ok(argChunks.length >= 2, 'arguments arrive in fragments');
  assert.equal(streamedText(chunks), 'Calling a tool.');
  assert.equal(chunks[chunks.length - 1]!.choices[0]!.finish_reason, 'tool_calls');
});

test('upstream 4xx passes through with the provider message, type and status; not retryable', async () => {
  mock.enqueue({ status: 400, message: 'messages: roles must alternate' });
  const err = await rejection(adapter.send(chatReq(hello), callFor(mock.url)));
  assert.equal(err.code, 'GH_ERR_UPSTREAM_STATUS');
  assert.equal(err.status, 400);
  assert.equal(err.type, 'invalid_request_error');
  assert.match(err.message, /roles must alternate/);
  assert.equal(err.retryable, false);
});

test('429 with retry-after and 529 overloaded are retryable', async () => {
  mock.enqueue({ status: 429, retryAfter: 2 });
  const limited = await rejection(adapter.send(chatReq(hello), callFor(mock.url)));
  assert.equal(limited.status, 429);
  assert.equal(limited.type, 'rate_limit_error');
  assert.equal(limited.retryable, true);
  assert.equal(limited.retryAfterMs, 2000);

  mock.enqueue({ status: 529 });
  const overloaded = await rejection(adapter.send(chatReq(hello, { stream: true }), callFor(mock.url)));
  assert.equal(overloaded.status, 529);
  assert.equal(overloaded.type, 'overloaded_error');
  assert.equal(overloaded.retryable, true);
});

test('the mock itself rejects what real Anthropic rejects (so the translation is really checked)', async () => {
  const raw = await http.request({ url: `${mock.url}/v1/messages`, headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'system', content: 'x' }] }), headersTimeoutMs: 2000, bodyTimeoutMs: 2000, provider: 't' });
  assert.equal(raw.status, 400);
  const body = await raw.body.json() as { type: string; error: { type: string; message: string } };
  assert.equal(body.type, 'error');
  assert.match(body.error.message, /max_tokens/);
});

test('a 200 whose body is not JSON is a retryable bad response', async () => {
  mock.enqueue({ invalidJson: true });
  const err = await rejection(adapter.send(chatReq(hello), callFor(mock.url)));
  assert.equal(err.code, 'GH_ERR_UPSTREAM_BAD_RESPONSE');
  assert.equal(err.retryable, true);
});

test('a stream that ends without message_stop fails after the chunks that did arrive', async () => {
  mock.enqueue({ truncateStream: true });
  const { chunks, error } = await collect(await adapter.send(chatReq(hello, { stream: true }), callFor(mock.url)));
  assert.ok(chunks.length > 0);
  assert.equal((error as { code?: string }).code, 'GH_ERR_UPSTREAM_BAD_RESPONSE');
  assert.match(String((error as Error).message), /message_stop/);
});

test('an error event inside a 200 stream throws the provider error (overloaded → 529, retryable)', async () => {
  mock.enqueue({ errorEvent: true, message: 'Overloaded right now' });
  const { chunks, error } = await collect(await adapter.send(chatReq(hello, { stream: true }), callFor(mock.url)));
  assert.equal(chunks.length, 0);
  const e = error as { code: string; status: number; retryable: boolean; message: string };
  assert.equal(e.code, 'GH_ERR_UPSTREAM_STATUS');
  assert.equal(e.status, 529);
  assert.equal(e.retryable, true);
  assert.match(e.message, /Overloaded right now/);
});

test('a stalled stream ends with the idle timeout error', async () => {
  mock.enqueue({ stallStream: true });
  const { chunks, error } = await collect(await adapter.send(chatReq(hello, { stream: true }), callFor(mock.url, { idleMs: 150 })));
  assert.ok(chunks.length > 0);
  assert.equal((error as { code?: string }).code, 'GH_ERR_STREAM_IDLE');
});

test('aborting the call mid-stream aborts the upstream request', async () => {
  mock.enqueue({ chunkDelayMs: 50 });
  const ac = new AbortController();
  const result = await adapter.send(chatReq([{ role: 'user', content: 'a b c d e f g h i j k l' }], { stream: true }), callFor(mock.url, { signal: ac.signal }));
  assert.equal(result.kind, 'stream');
  let n = 0;
  await assert.rejects(async () => {
    for await (const _ of (result as { stream: AsyncIterable<unknown> }).stream) if (++n === 2) ac.abort();
  });
  await mock.requests[0]!.settled;
  assert.equal(mock.requests[0]!.aborted, true);
  assert.equal(mock.requests[0]!.completed, false);
});

test('embeddings are not supported; text completions ride on messages', async () => {
  assert.equal(adapter.supports('embedding'), false);
  const err = await rejection(adapter.send(req('embedding', 'x'), callFor(mock.url)));
  assert.equal(err.code, 'GH_ERR_UNSUPPORTED_OPERATION');
  assert.equal(mock.requests.length, 0);

  const text = response(await adapter.send(req('text_completion', 'say hi'), callFor(mock.url))).text_completion_response as TextCompletion;
  assert.equal(text.object, 'text_completion');
  assert.equal(text.choices[0]!.text, 'Echo: say hi');
  assert.equal(text.choices[0]!.finish_reason, 'stop');
});
