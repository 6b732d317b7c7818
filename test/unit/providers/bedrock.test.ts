import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { BedrockAdapter } from '../../../packages/gateway/src/providers/bedrock/adapter.js';
import { eventStreamMessages } from '../../../packages/gateway/src/providers/bedrock/eventstream.js';
import type { ProviderCall } from '../../../packages/gateway/src/providers/provider.js';
import { frame, startBedrockUpstream, type MockUpstream } from '../../mocks/bedrock-upstream.js';
import { callFor, chat, chatReq, collect, http, PNG_DATA_URL, rejection, req, response, streamedText, streamedToolCalls, weatherTool } from './helpers.js';

const adapter = new BedrockAdapter();
let mock: MockUpstream;
const AKID = 'AKIDUNITTEST';
const SECRET = 'unit-secret-do-not-leak';

before(async () => { mock = await startBedrockUpstream({ credentials: { [AKID]: SECRET, AKIDTEMP: 'temp-secret' }, region: 'eu-west-1' }); });
beforeEach(() => mock.reset());
after(async () => { await http.close(); await mock.close(); });

function bedrockCall(config: Record<string, unknown> = {}): ProviderCall {
  const call = callFor(mock.url);
  call.key = { name: 'b1', value: '', models: [], weight: 1, config: { access_key: AKID, secret_key: SECRET, region: 'eu-west-1', deployments: {}, ...config } };
  return call;
}

test('chat: signed Converse request (system, inferenceConfig, top_k), answer as chat.completion with usage', async () => {
  const out = chat(await adapter.send(chatReq([{ role: 'system', content: 'be terse' }, { role: 'user', content: 'hello there' }], { max_tokens: 50, temperature: 0.3, top_k: 5, stop: 'END' }, 'amazon.nova-lite-v1:0'), bedrockCall()));
  const rec = mock.requests[0]!;
  assert.equal(rec.rawPath, '/model/amazon.nova-lite-v1%3A0/converse');
  assert.match(String(rec.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKIDUNITTEST\/\d{8}\/eu-west-1\/bedrock\/aws4_request/);
  assert.deepEqual(rec.body.system, [{ text: 'be terse' }]);
  assert.deepEqual(rec.body.inferenceConfig, { maxTokens: 50, temperature: 0.3, stopSequences: ['END'] });
  assert.deepEqual(rec.body.additionalModelRequestFields, { top_k: 5 });
  assert.equal(out.choices[0]?.message.content, 'Echo: hello there');
  assert.equal(out.choices[0]?.finish_reason, 'stop');
  assert.equal(out.model, 'amazon.nova-lite-v1:0');
  assert.deepEqual(out.usage, { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 });
});

test('stop reasons: max_tokens becomes length', async () => {
  const out = chat(await adapter.send(chatReq([{ role: 'user', content: 'one two three four five' }], { max_tokens: 2 }), bedrockCall()));
  assert.equal(out.choices[0]?.finish_reason, 'length');
  assert.equal(out.choices[0]?.message.content, 'Echo: one');
});

test('tools: toolSpec out, toolUse back, toolResult (JSON) up; tool_choice maps to any/tool; none drops the tools', async () => {
  const first = chat(await adapter.send(chatReq([{ role: 'user', content: 'call get_weather for Paris' }], { tools: [weatherTool], tool_choice: 'required' }), bedrockCall()));
  const body = mock.requests[0]!.body;
  assert.equal(body.toolConfig.tools[0].toolSpec.name, 'get_weather');
  assert.equal(body.toolConfig.tools[0].toolSpec.inputSchema.json.type, 'object');
  assert.deepEqual(body.toolConfig.toolChoice, { any: {} });
  const call = first.choices[0]?.message.tool_calls?.[0];
  assert.equal(first.choices[0]?.finish_reason, 'tool_calls');
  assert.equal(call?.function.name, 'get_weather');
  const second = chat(await adapter.send(chatReq([
    { role: 'user', content: 'call get_weather for Paris' },
    { role: 'assistant', content: null, tool_calls: [call!] },
    { role: 'tool', tool_call_id: call!.id, content: '{"temp":21}' },
  ], { tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'get_weather' } } }), bedrockCall()));
  const up = mock.requests[1]!.body;
  assert.deepEqual(up.messages[1].content[0].toolUse.input, { input: 'call get_weather for Paris' });
  assert.deepEqual(up.messages[2].content[0], { toolResult: { toolUseId: call!.id, content: [{ json: { temp: 21 } }] } });
  assert.deepEqual(up.toolConfig.toolChoice, { tool: { name: 'get_weather' } });
  assert.equal(second.choices[0]?.message.content, 'Tool result: [{"temp":21}]');
  await adapter.send(chatReq([{ role: 'user', content: 'get_weather' }], { tools: [weatherTool], tool_choice: 'none' }), bedrockCall());
  assert.equal(mock.requests[2]!.body.toolConfig, undefined);
});

test('images: data URLs become image bytes with a format; web links are refused before anything is sent', async () => {
  const out = chat(await adapter.send(chatReq([{ role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: PNG_DATA_URL } }] }]), bedrockCall()));
  assert.equal(mock.requests[0]!.body.messages[0].content[1].image.format, 'png');
  assert.match(String(out.choices[0]?.message.content), /\[1 image/);
  const err = await rejection(adapter.send(chatReq([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }]), bedrockCall()));
  assert.equal(err.status, 400);
  assert.equal(mock.requests.length, 1);
});

test('stream: event-stream frames become chunks, tool-call deltas, finish_reason and usage', async () => {
  const text = await collect(await adapter.send(chatReq([{ role: 'user', content: 'stream these words' }], { stream: true, stream_options: { include_usage: true } }), bedrockCall()));
  assert.equal(text.error, undefined);
  assert.equal(streamedText(text.chunks), 'Echo: stream these words');
  assert.equal(text.chunks.at(-2)?.choices[0]?.finish_reason, 'stop');
  assert.deepEqual(text.chunks.at(-1)?.usage, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
  assert.equal(mock.requests[0]!.headers.accept, 'application/vnd.amazon.eventstream');
  const tools = await collect(await adapter.send(chatReq([{ role: 'user', content: 'get_weather now' }], { stream: true, tools: [weatherTool] }), bedrockCall()));
  const calls = streamedToolCalls(tools.chunks);
  assert.equal(calls[0]?.name, 'get_weather');
  assert.deepEqual(JSON.parse(calls[0]!.arguments), { input: 'get_weather now' });
  assert.equal(tools.chunks.at(-1)?.choices[0]?.finish_reason, 'tool_calls');
});

test('stream faults: exception frame, bad CRC, cut-off stream', async () => {
  mock.enqueue({ errorEvent: true, message: 'slow down please', errorType: 'throttlingException' });
  const ex = await collect(await adapter.send(chatReq([{ role: 'user', content: 'x' }], { stream: true }), bedrockCall()));
  assert.equal(ex.error && (ex.error as any).status, 429);
  assert.match((ex.error as Error).message, /slow down please/);
  mock.enqueue({ invalidJson: true });
  const crc = await collect(await adapter.send(chatReq([{ role: 'user', content: 'x' }], { stream: true }), bedrockCall()));
  assert.match((crc.error as Error).message, /frame rejected/);
  mock.enqueue({ truncateStream: true });
  const cut = await collect(await adapter.send(chatReq([{ role: 'user', content: 'x' }], { stream: true }), bedrockCall()));
  assert.match((cut.error as Error).message, /before messageStop/);
});

test('errors: AWS message and exception name, status kept, 429 retryable with retry-after', async () => {
  mock.enqueue({ status: 429, retryAfter: 2 });
  const t = await rejection(adapter.send(chatReq([{ role: 'user', content: 'x' }]), bedrockCall()));
  assert.equal(t.status, 429);
  assert.equal(t.retryable, true);
  assert.equal(t.retryAfterMs, 2000);
  assert.equal(t.upstreamCode, 'ThrottlingException');
  assert.match(t.message, /Too many requests/);
  mock.enqueue({ status: 400, message: 'Malformed thing' });
  const v = await rejection(adapter.send(chatReq([{ role: 'user', content: 'x' }]), bedrockCall()));
  assert.equal(v.upstreamCode, 'ValidationException');
  assert.equal(v.retryable, false);
});

test('wrong credentials: 403 with the AWS message, never the secret', async () => {
  const bad = await rejection(adapter.send(chatReq([{ role: 'user', content: 'x' }]), bedrockCall({ secret_key: 'wrong-secret-value' })));
  assert.equal(bad.status, 403);
  assert.match(bad.message, /signature we calculated does not match/);
  assert.doesNotMatch(JSON.stringify({ m: bad.message, b: bad.toBody() }), /wrong-secret-value|unit-secret/);
  const unknown = await rejection(adapter.send(chatReq([{ role: 'user', content: 'x' }]), bedrockCall({ access_key: 'AKIDNOBODY' })));
  assert.equal(unknown.status, 403);
  assert.match(unknown.message, /security token included in the request is invalid/);
});

test('session tokens are signed and sent; deployments and an ARN pick the model id in the URL', async () => {
  await adapter.send(chatReq([{ role: 'user', content: 'x' }], {}, 'claude'), bedrockCall({ access_key: 'AKIDTEMP', secret_key: 'temp-secret', session_token: 'sess-token-1', deployments: { claude: 'us.anthropic.claude-3-5-haiku-20241022-v1:0' }, arn: 'arn:aws:bedrock:eu-west-1:123456789012:inference-profile' }));
  const rec = mock.requests[0]!;
  assert.equal(rec.headers['x-amz-security-token'], 'sess-token-1');
  assert.match(String(rec.headers.authorization), /x-amz-security-token/);
  assert.equal(decodeURIComponent(rec.rawPath), '/model/arn:aws:bedrock:eu-west-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0/converse');
});

test('embeddings: Titan one call per input (dimensions), Cohere one call for all; usage and base64', async () => {
  const titan = response(await adapter.send(req('embedding', ['alpha beta', 'gamma'], { dimensions: 256 }, 'amazon.titan-embed-text-v2:0'), bedrockCall())).embedding_response!;
  assert.equal(mock.requests.length, 2);
  assert.deepEqual(mock.requests.map((r) => r.body.inputText).sort(), ['alpha beta', 'gamma']);
  assert.equal(mock.requests[0]!.body.dimensions, 256);
  assert.equal(titan.data.length, 2);
  assert.equal(titan.usage.prompt_tokens, 3);
  mock.reset();
  const cohere = response(await adapter.send(req('embedding', ['one', 'two', 'three'], { encoding_format: 'base64' }, 'cohere.embed-english-v3'), bedrockCall())).embedding_response!;
  assert.equal(mock.requests.length, 1);
  assert.deepEqual(mock.requests[0]!.body, { texts: ['one', 'two', 'three'], input_type: 'search_document' });
  assert.equal(cohere.data.length, 3);
  assert.equal(typeof cohere.data[0]!.embedding, 'string');
  assert.equal(cohere.usage.prompt_tokens, 3);
  const none = await rejection(adapter.send(req('embedding', 'x', {}, 'meta.llama3-8b-instruct-v1:0'), bedrockCall()));
  assert.equal(none.status, 400);
});

test('checkKey: access_key and secret_key are required', () => {
  assert.match(adapter.checkKey({ name: 'k', value: '', models: [], weight: 1 }) ?? '', /bedrock_key_config/);
  assert.match(adapter.checkKey({ name: 'k', value: '', models: [], weight: 1, config: { access_key: 'A' } }) ?? '', /secret_key/);
  assert.equal(adapter.checkKey({ name: 'k', value: '', models: [], weight: 1, config: { access_key: 'A', secret_key: 'B' } }), undefined);
});

test('framing: frames split at every byte boundary decode; the body is pulled only as messages are asked for', async () => {
  const frames = [frame('event', 'messageStart', { role: 'assistant' }), frame('event', 'contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'hi' } }), frame('event', 'messageStop', { stopReason: 'end_turn' })];
  const all = Buffer.concat(frames);
  async function* bytewise(): AsyncGenerator<Uint8Array> { for (let i = 0; i < all.length; i++) yield all.subarray(i, i + 1); }
  const names: string[] = [];
  for await (const m of eventStreamMessages(bytewise(), 'bedrock')) names.push(m.name);
  assert.deepEqual(names, ['messageStart', 'contentBlockDelta', 'messageStop']);

  let pulled = 0;
  async function* counted(): AsyncGenerator<Uint8Array> { for (let i = 0; i < 1000; i++) { pulled++; yield frames[1]!; } }
  const it = eventStreamMessages(counted(), 'bedrock');
  await it.next();
  await it.next();
  assert.ok(pulled <= 2, `pulled ${pulled} chunks for 2 messages`);
  await it.return(undefined);

  const huge = Buffer.alloc(8);
  huge.writeUInt32BE(64 * 1024 * 1024, 0);
  async function* oversized(): AsyncGenerator<Uint8Array> { yield huge; }
  await assert.rejects(async () => { for await (const _ of eventStreamMessages(oversized(), 'bedrock')) { /* drain */ } }, /frame of 67108864 bytes/);
});
