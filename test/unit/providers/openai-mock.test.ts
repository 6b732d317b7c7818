// The OpenAI mock upstream used through the real OpenAI adapter, and the fault machinery every
// mock shares (queue, behaviour, per-key faults, abort recording, socket counting).
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAIAdapter } from '../../../packages/gateway/src/providers/openai/adapter.js';
import { OPENAI_COMPATIBLE } from '../../../packages/gateway/src/providers/openai/family.js';
import { UpstreamClient } from '../../../packages/gateway/src/providers/upstream-client.js';
import type { EmbeddingResponse, TextCompletion } from '../../../packages/gateway/src/schema/openai.js';
import { startOpenAIUpstream, type MockUpstream } from '../../mocks/openai-upstream.js';
import { callFor, chat, chatReq, collect, http, rejection, req, response, streamedText, streamedToolCalls, weatherTool } from './helpers.js';

const adapter = new OpenAIAdapter('openai', OPENAI_COMPATIBLE.openai!);
let mock: MockUpstream;

before(async () => { mock = await startOpenAIUpstream({ keys: ['k1', 'k2'] }); });
beforeEach(() => mock.reset());
after(async () => { await http.close(); await mock.close(); });

const hello = [{ role: 'user', content: 'hello world' }];

test('chat through the OpenAI adapter: bearer key recorded, echo answer, usage', async () => {
  const out = chat(await adapter.send(chatReq(hello, {}, 'gpt-4o-mini'), callFor(mock.url, { key: 'k1' })));
  assert.equal(mock.requests[0]!.path, '/v1/chat/completions');
  assert.equal(mock.requests[0]!.key, 'k1');
  assert.equal(mock.requests[0]!.body.model, 'gpt-4o-mini');
  assert.equal(out.choices[0]!.message.content, 'Echo: hello world');
  assert.deepEqual(out.usage, { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
});

test('stream with include_usage: word chunks, finish chunk, usage chunk, [DONE]', async () => {
  const { chunks, error } = await collect(await adapter.send(chatReq(hello, { stream: true, stream_options: { include_usage: true } }), callFor(mock.url, { key: 'k1' })));
  assert.equal(error, undefined);
  assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
  assert.equal(streamedText(chunks), 'Echo: hello world');
  assert.equal(chunks[chunks.length - 2]!.choices[0]!.finish_reason, 'stop');
  assert.deepEqual(chunks[chunks.length - 1]!.usage, { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
});

test('tool calls, streamed and not', async () => {
  const out = chat(await adapter.send(chatReq([{ role: 'user', content: 'get_weather now' }], { tools: [weatherTool] }), callFor(mock.url, { key: 'k1' })));
  assert.equal(out.choices[0]!.finish_reason, 'tool_calls');
  assert.equal(out.choices[0]!.message.tool_calls![0]!.function.name, 'get_weather');
  const { chunks } = await collect(await adapter.send(chatReq([{ role: 'user', content: 'get_weather now' }], { stream: true, tools: [weatherTool] }), callFor(mock.url, { key: 'k1' })));
  assert.deepEqual(JSON.parse(streamedToolCalls(chunks)[0]!.arguments), { input: 'get_weather now' });
});

test('completions and embeddings endpoints', async () => {
  const text = response(await adapter.send(req('text_completion', 'hi there'), callFor(mock.url, { key: 'k2' }))).text_completion_response as TextCompletion;
  assert.equal(mock.requests[0]!.path, '/v1/completions');
  assert.equal(text.choices[0]!.text, 'Echo: hi there');
  const emb = response(await adapter.send(req('embedding', ['a', 'b'], { dimensions: 3 }), callFor(mock.url, { key: 'k2' }))).embedding_response as EmbeddingResponse;
  assert.equal(mock.requests[1]!.path, '/v1/embeddings');
  assert.equal(emb.data.length, 2);
  assert.equal((emb.data[1]!.embedding as number[]).length, 3);
});

test('a key outside the allow-list gets 401 invalid_api_key with OpenAI’s error body', async () => {
  const err = await rejection(adapter.send(chatReq(hello), callFor(mock.url, { key: 'stolen' })));
  assert.equal(err.status, 401);
  assert.equal(err.upstreamCode, 'invalid_api_key');
  assert.match(err.message, /Incorrect API key/);
  assert.equal(err.retryable, false);
  assert.equal(mock.requests[0]!.key, 'stolen');
});

test('failKey: only requests with that key fail (key rotation)', async () => {
  mock.failKey('k1', { status: 429, retryAfter: 1, message: 'Rate limit reached' });
  const err = await rejection(adapter.send(chatReq(hello), callFor(mock.url, { key: 'k1' })));
  assert.equal(err.status, 429);
  assert.equal(err.retryAfterMs, 1000);
  assert.equal(err.retryable, true);
  assert.match(err.message, /Rate limit reached/);
  const ok = chat(await adapter.send(chatReq(hello), callFor(mock.url, { key: 'k2' })));
  assert.equal(ok.choices[0]!.message.content, 'Echo: hello world');
  assert.deepEqual(mock.requests.map((r) => [r.key, r.fault?.status]), [['k1', 429], ['k2', undefined]]);
});

test('enqueue(fault, times) applies to the next N requests, then normal answers resume; setBehaviour persists', async () => {
  mock.enqueue({ status: 500 }, 2);
  for (let i = 0; i < 2; i++) assert.equal((await rejection(adapter.send(chatReq(hello), callFor(mock.url, { key: 'k1' })))).status, 500);
  assert.equal(chat(await adapter.send(chatReq(hello), callFor(mock.url, { key: 'k1' }))).choices[0]!.message.content, 'Echo: hello world');
  mock.setBehaviour({ status: 503 });
  for (let i = 0; i < 2; i++) assert.equal((await rejection(adapter.send(chatReq(hello), callFor(mock.url, { key: 'k1' })))).status, 503);
  mock.setBehaviour(undefined);
  assert.equal(mock.requests.length, 5);
});

test('stream faults through the OpenAI adapter: no [DONE], error event, invalid JSON body', async () => {
  mock.enqueue({ truncateStream: true });
  const cut = await collect(await adapter.send(chatReq(hello, { stream: true }), callFor(mock.url, { key: 'k1' })));
  assert.equal((cut.error as { code?: string }).code, 'GH_ERR_UPSTREAM_BAD_RESPONSE');
  assert.equal(streamedText(cut.chunks), 'Echo: hello world');

  mock.enqueue({ errorEvent: true, message: 'The server had an error' });
  const ev = await collect(await adapter.send(chatReq(hello, { stream: true }), callFor(mock.url, { key: 'k1' })));
  assert.match(String((ev.error as Error).message), /The server had an error/);

  mock.enqueue({ invalidJson: true });
  assert.equal((await rejection(adapter.send(chatReq(hello), callFor(mock.url, { key: 'k1' })))).code, 'GH_ERR_UPSTREAM_BAD_RESPONSE');
});

test('slow answers: delayMs beyond the request timeout is a 504-type timeout', async () => {
  mock.enqueue({ delayMs: 1500 });
  const err = await rejection(adapter.send(chatReq(hello), callFor(mock.url, { key: 'k1', timeoutMs: 200 })));
  assert.equal(err.code, 'GH_ERR_UPSTREAM_TIMEOUT');
  await mock.requests[0]!.settled;
  assert.equal(mock.requests[0]!.aborted, true);
});

test('leaving a stream early closes the upstream request (recorded as aborted)', async () => {
  mock.enqueue({ chunkDelayMs: 40 });
  const result = await adapter.send(chatReq([{ role: 'user', content: 'a b c d e f g h i j' }], { stream: true }), callFor(mock.url, { key: 'k1' }));
  assert.equal(result.kind, 'stream');
  let n = 0;
  for await (const _ of (result as { stream: AsyncIterable<unknown> }).stream) if (++n === 2) break;
  await mock.requests[0]!.settled;
  assert.equal(mock.requests[0]!.aborted, true);
});

test('a completed request is not recorded as aborted, and sockets are released once the client closes', async () => {
  const own = new UpstreamClient();
  const call = { ...callFor(mock.url, { key: 'k1' }), http: own };
  await adapter.send(chatReq(hello), call);
  await collect(await adapter.send(chatReq(hello, { stream: true }), call));
  await mock.requests[1]!.settled;
  assert.deepEqual(mock.requests.map((r) => [r.aborted, r.completed]), [[false, true], [false, true]]);
  assert.ok(mock.openSockets() >= 1, 'keep-alive holds a socket while the client lives');
  await own.close();
  for (let i = 0; i < 50 && mock.openSockets() > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(mock.openSockets(), 0);
});

test('GET /v1/models lists models; an unknown route is a 404 in OpenAI’s shape', async () => {
  const models = await http.request({ method: 'GET', url: `${mock.url}/v1/models`, headers: { authorization: 'Bearer k1' }, headersTimeoutMs: 2000, bodyTimeoutMs: 2000, provider: 't' });
  const body = await models.body.json() as { data: Array<{ id: string }> };
  assert.ok(body.data.some((m) => m.id === 'gpt-4o-mini'));
  const missing = await http.request({ url: `${mock.url}/v1/nope`, headers: { authorization: 'Bearer k1' }, body: '{}', headersTimeoutMs: 2000, bodyTimeoutMs: 2000, provider: 't' });
  assert.equal(missing.status, 404);
  assert.match(((await missing.body.json()) as { error: { message: string } }).error.message, /Invalid URL/);
});
