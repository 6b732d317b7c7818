import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { GeminiAdapter } from '../../../packages/gateway/src/providers/gemini/adapter.js';
import type { ChatMessage, EmbeddingResponse } from '../../../packages/gateway/src/schema/openai.js';
import { startGeminiUpstream, type MockUpstream } from '../../mocks/gemini-upstream.js';
import { callFor, chat, chatReq, collect, http, PNG_DATA_URL, rejection, req, response, streamedText, streamedToolCalls, weatherTool } from './helpers.js';

const adapter = new GeminiAdapter();
let mock: MockUpstream;

before(async () => { mock = await startGeminiUpstream(); });
beforeEach(() => { mock.reset(); mock.setKeys(undefined); });
after(async () => { await http.close(); await mock.close(); });

const hello: ChatMessage[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'hello world' },
];

test('chat: URL, key header (never in the URL), systemInstruction, camelCase generationConfig', async () => {
  const out = chat(await adapter.send(chatReq(hello, { temperature: 0.3, top_p: 0.9, max_tokens: 50, stop: ['x', 'y'], seed: 7 }, 'gemini-2.0-flash'), callFor(mock.url, { key: 'AIza-1' })));
  const rec = mock.requests[0]!;
  assert.equal(rec.path, '/v1beta/models/gemini-2.0-flash:generateContent');
  assert.deepEqual(rec.query, {});
  assert.equal(rec.headers['x-goog-api-key'], 'AIza-1');
  assert.deepEqual(rec.body.systemInstruction, { parts: [{ text: 'You are terse.' }] });
  assert.deepEqual(rec.body.contents, [{ role: 'user', parts: [{ text: 'hello world' }] }]);
  assert.deepEqual(rec.body.generationConfig, { temperature: 0.3, topP: 0.9, maxOutputTokens: 50, stopSequences: ['x', 'y'], seed: 7 });
  assert.equal(out.object, 'chat.completion');
  assert.equal(out.model, 'gemini-2.0-flash');
  assert.deepEqual(out.choices[0]!.message, { role: 'assistant', content: 'Echo: hello world' });
  assert.equal(out.choices[0]!.finish_reason, 'stop');
  assert.deepEqual(out.usage, { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
});

test('base_url with /v1beta and model names with models/ are tolerated', async () => {
  await adapter.send(chatReq(hello, {}, 'models/gemini-pro'), callFor(`${mock.url}/v1beta`));
  assert.equal(mock.requests[0]!.path, '/v1beta/models/gemini-pro:generateContent');
});

test('maxOutputTokens below the answer → finish_reason length', async () => {
  const out = chat(await adapter.send(chatReq([{ role: 'user', content: 'a b c d' }], { max_completion_tokens: 2 }), callFor(mock.url)));
  assert.equal(out.choices[0]!.finish_reason, 'length');
  assert.equal(out.choices[0]!.message.content, 'Echo: a');
});

test('response_format json_schema → responseMimeType and a cleaned responseSchema', async () => {
  const out = chat(await adapter.send(chatReq([{ role: 'user', content: 'hi' }], {
    response_format: { type: 'json_schema', json_schema: { name: 'r', schema: { type: 'object', properties: { echo: { type: 'string' } }, additionalProperties: false } } },
  }), callFor(mock.url)));
  const cfg = mock.requests[0]!.body.generationConfig;
  assert.equal(cfg.responseMimeType, 'application/json');
  assert.deepEqual(cfg.responseSchema, { type: 'object', properties: { echo: { type: 'string' } } });
  assert.deepEqual(JSON.parse(out.choices[0]!.message.content as string), { echo: 'hi' });
});

test('tools: declarations cut to Gemini’s schema subset, tool_choice → toolConfig; functionCall → tool_calls', async () => {
  const out = chat(await adapter.send(chatReq([{ role: 'user', content: 'anything' }], {
    tools: [weatherTool, { type: 'function', function: { name: 'no_args', parameters: { type: 'object', properties: {} } } }],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
  }), callFor(mock.url)));
  const body = mock.requests[0]!.body;
  assert.deepEqual(body.tools, [{ functionDeclarations: [
    { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string', nullable: true } }, required: ['city'] } },
    { name: 'no_args' },
  ] }]);
  assert.deepEqual(body.toolConfig, { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } });
  const choice = out.choices[0]!;
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, null);
  assert.equal(choice.message.tool_calls![0]!.function.name, 'get_weather');
  assert.ok(choice.message.tool_calls![0]!.id.length > 0);
  assert.deepEqual(JSON.parse(choice.message.tool_calls![0]!.function.arguments), { input: 'anything' });
});

test('tool round trip: assistant tool_calls → model functionCall, tool messages → functionResponse named by the call', async () => {
  const input: ChatMessage[] = [
    { role: 'user', content: 'weather?' },
    { role: 'assistant', content: 'Let me check.', tool_calls: [
      { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '' } },
    ] },
    { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
    { role: 'tool', tool_call_id: 'call_2', content: 'noon' },
  ];
  const out = chat(await adapter.send(chatReq(input, { tools: [weatherTool] }), callFor(mock.url)));
  const contents = mock.requests[0]!.body.contents;
  assert.equal(contents.length, 3);
  assert.deepEqual(contents[1], { role: 'model', parts: [
    { text: 'Let me check.' },
    { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
    { functionCall: { name: 'get_time', args: {} } },
  ] });
  assert.deepEqual(contents[2], { role: 'user', parts: [
    { functionResponse: { name: 'get_weather', response: { temp: 21 } } },
    { functionResponse: { name: 'get_time', response: { content: 'noon' } } },
  ] });
  assert.equal(out.choices[0]!.message.content, 'Tool result: {"temp":21}');
});

test('images: data URLs → inlineData, http URLs → fileData with a guessed mimeType', async () => {
  const out = chat(await adapter.send(chatReq([{ role: 'user', content: [
    { type: 'text', text: 'look' },
    { type: 'image_url', image_url: { url: PNG_DATA_URL } },
    { type: 'image_url', image_url: { url: 'https://example.com/a/cat.webp?x=1' } },
  ] }]), callFor(mock.url)));
  const parts = mock.requests[0]!.body.contents[0].parts;
  assert.deepEqual(parts[1], { inlineData: { mimeType: 'image/png', data: PNG_DATA_URL.split(',')[1] } });
  assert.deepEqual(parts[2], { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/a/cat.webp?x=1' } });
  assert.equal(out.choices[0]!.message.content, 'Echo: look [2 image(s)]');
});

test('stream: alt=sse, role chunk first, text deltas, finish chunk, usage chunk when asked', async () => {
  const { chunks, error } = await collect(await adapter.send(chatReq(hello, { stream: true, stream_options: { include_usage: true } }), callFor(mock.url)));
  assert.equal(error, undefined);
  const rec = mock.requests[0]!;
  assert.equal(rec.path, '/v1beta/models/test-model:streamGenerateContent');
  assert.deepEqual(rec.query, { alt: 'sse' });
  assert.equal(rec.body.stream, undefined, 'stream is not a Gemini field');
  assert.deepEqual(chunks[0]!.choices[0]!.delta, { role: 'assistant', content: '' });
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]!.id));
  assert.equal(streamedText(chunks), 'Echo: hello world');
  assert.ok(chunks.filter((c) => c.choices[0]?.delta.content).length >= 3, 'text arrives in pieces');
  assert.equal(chunks[chunks.length - 2]!.choices[0]!.finish_reason, 'stop');
  const last = chunks[chunks.length - 1]!;
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage, { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
});

test('stream with a function call: one chunk with id, name and all arguments; finish tool_calls; no usage unless asked', async () => {
  const { chunks, error } = await collect(await adapter.send(chatReq([{ role: 'user', content: 'get_weather please' }], { stream: true, tools: [weatherTool] }), callFor(mock.url)));
  assert.equal(error, undefined);
  const calls = streamedToolCalls(chunks);
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.name, 'get_weather');
  assert.deepEqual(JSON.parse(calls[0]!.arguments), { input: 'get_weather please' });
  assert.equal(chunks[chunks.length - 1]!.choices[0]!.finish_reason, 'tool_calls');
  assert.ok(chunks.every((c) => !c.usage));
});

test('a stream that ends without a finishReason is a bad response', async () => {
  mock.enqueue({ truncateStream: true });
  const { chunks, error } = await collect(await adapter.send(chatReq(hello, { stream: true }), callFor(mock.url)));
  assert.ok(chunks.length > 0);
  assert.equal((error as { code?: string }).code, 'GH_ERR_UPSTREAM_BAD_RESPONSE');
});

test('an error object inside the stream throws with Google’s status', async () => {
  mock.enqueue({ errorEvent: true, message: 'backend exploded' });
  const { error } = await collect(await adapter.send(chatReq(hello, { stream: true }), callFor(mock.url)));
  const e = error as { code: string; status: number; retryable: boolean; message: string; upstreamCode: string };
  assert.equal(e.code, 'GH_ERR_UPSTREAM_STATUS');
  assert.equal(e.status, 500);
  assert.equal(e.retryable, true);
  assert.equal(e.upstreamCode, 'INTERNAL');
  assert.match(e.message, /backend exploded/);
});

test('upstream errors: 400 passes through with Google’s message and status; 429 with retry-after and 503 are retryable', async () => {
  mock.enqueue({ status: 400, message: 'Request contains an invalid argument.' });
  const bad = await rejection(adapter.send(chatReq(hello), callFor(mock.url)));
  assert.equal(bad.status, 400);
  assert.equal(bad.upstreamCode, 'INVALID_ARGUMENT');
  assert.match(bad.message, /invalid argument/);
  assert.equal(bad.retryable, false);

  mock.enqueue({ status: 429, retryAfter: 3 });
  const limited = await rejection(adapter.send(chatReq(hello, { stream: true }), callFor(mock.url)));
  assert.equal(limited.status, 429);
  assert.equal(limited.upstreamCode, 'RESOURCE_EXHAUSTED');
  assert.equal(limited.retryAfterMs, 3000);
  assert.equal(limited.retryable, true);

  mock.enqueue({ status: 503 });
  assert.equal((await rejection(adapter.send(chatReq(hello), callFor(mock.url)))).retryable, true);
});

test('a refused key gets Google’s own answer (400 API key not valid)', async () => {
  mock.setKeys(['good']);
  const err = await rejection(adapter.send(chatReq(hello), callFor(mock.url, { key: 'bad' })));
  assert.equal(err.status, 400);
  assert.match(err.message, /API key not valid/);
  const ok = chat(await adapter.send(chatReq(hello), callFor(mock.url, { key: 'good' })));
  assert.equal(ok.choices[0]!.message.content, 'Echo: hello world');
  assert.deepEqual(mock.requests.map((r) => r.key), ['bad', 'good']);
});

test('a 200 whose body is not JSON is a retryable bad response; a reset mid-body is a retryable network error', async () => {
  mock.enqueue({ invalidJson: true });
  const bad = await rejection(adapter.send(chatReq(hello), callFor(mock.url)));
  assert.equal(bad.code, 'GH_ERR_UPSTREAM_BAD_RESPONSE');
  assert.equal(bad.retryable, true);

  mock.enqueue({ reset: 'mid-body' });
  const reset = await rejection(adapter.send(chatReq(hello), callFor(mock.url)));
  assert.equal(reset.code, 'GH_ERR_UPSTREAM_UNREACHABLE');
  assert.equal(reset.retryable, true);
});

test('an upstream that hangs hits the request timeout, and the mock sees the request aborted', async () => {
  mock.enqueue({ hang: true });
  const err = await rejection(adapter.send(chatReq(hello), callFor(mock.url, { timeoutMs: 200 })));
  assert.equal(err.code, 'GH_ERR_UPSTREAM_TIMEOUT');
  await mock.requests[0]!.settled;
  assert.equal(mock.requests[0]!.aborted, true);
});

test('embeddings: one input → embedContent, several → batchEmbedContents; float and base64 encodings', async () => {
  const one = response(await adapter.send(req('embedding', 'hello', { dimensions: 4 }, 'text-embedding-004'), callFor(mock.url))).embedding_response as EmbeddingResponse;
  assert.equal(mock.requests[0]!.path, '/v1beta/models/text-embedding-004:embedContent');
  assert.deepEqual(mock.requests[0]!.body, { model: 'models/text-embedding-004', content: { parts: [{ text: 'hello' }] }, outputDimensionality: 4 });
  assert.equal(one.object, 'list');
  assert.equal(one.data.length, 1);
  assert.equal((one.data[0]!.embedding as number[]).length, 4);

  const many = response(await adapter.send(req('embedding', ['a', 'b', 'c'], { encoding_format: 'base64' }, 'text-embedding-004'), callFor(mock.url))).embedding_response as EmbeddingResponse;
  assert.equal(mock.requests[1]!.path, '/v1beta/models/text-embedding-004:batchEmbedContents');
  assert.equal(mock.requests[1]!.body.requests.length, 3);
  assert.deepEqual(many.data.map((d) => d.index), [0, 1, 2]);
  const bytes = Buffer.from(many.data[0]!.embedding as string, 'base64');
  const decoded = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  assert.equal(decoded.length, 8);
  assert.ok(Math.abs(Math.hypot(...decoded) - 1) < 1e-5, 'a unit vector survives the base64 round trip');

  const err = await rejection(adapter.send(req('embedding', [[1, 2, 3]]), callFor(mock.url)));
  assert.equal(err.code, 'GH_ERR_INVALID_REQUEST');
});

test('text completions ride on generateContent', async () => {
  const out = response(await adapter.send(req('text_completion', ['finish this']), callFor(mock.url))).text_completion_response as { choices: Array<{ text: string }> };
  assert.equal(out.choices[0]!.text, 'Echo: finish this');
  assert.equal(mock.requests[0]!.path, '/v1beta/models/test-model:generateContent');
});
