import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { CohereAdapter } from '../../../packages/gateway/src/providers/cohere/adapter.js';
import { startCohereUpstream, type MockUpstream } from '../../mocks/cohere-upstream.js';
import { callFor, chat, chatReq, collect, http, rejection, req, response, streamedText, streamedToolCalls, weatherTool } from './helpers.js';

const adapter = new CohereAdapter();
let mock: MockUpstream;

before(async () => { mock = await startCohereUpstream({ keys: ['co-key'] }); });
beforeEach(() => mock.reset());
after(async () => { await http.close(); await mock.close(); });

const call = (key = 'co-key') => callFor(mock.url, { key });

test('chat: v2 body (renamed sampling fields), Bearer key, answer and usage', async () => {
  const out = chat(await adapter.send(chatReq([{ role: 'developer', content: 'terse' }, { role: 'user', content: 'hello cohere' }], { top_p: 0.9, top_k: 3, stop: ['X'], max_tokens: 20, seed: 7 }, 'command-r-plus'), call()));
  const rec = mock.requests[0]!;
  assert.equal(rec.path, '/v2/chat');
  assert.equal(rec.headers.authorization, 'Bearer co-key');
  assert.deepEqual(rec.body.messages[0], { role: 'system', content: 'terse' });
  assert.equal(rec.body.p, 0.9);
  assert.equal(rec.body.k, 3);
  assert.deepEqual(rec.body.stop_sequences, ['X']);
  assert.equal(rec.body.top_p, undefined);
  assert.equal(out.choices[0]?.message.content, 'Echo: hello cohere');
  assert.equal(out.choices[0]?.finish_reason, 'stop');
  assert.deepEqual(out.usage, { prompt_tokens: 8, completion_tokens: 3, total_tokens: 11 });
});

test('tools: tool_calls back (TOOL_CALL), results up as tool messages; tool_choice REQUIRED and a named tool', async () => {
  const first = chat(await adapter.send(chatReq([{ role: 'user', content: 'weather please' }], { tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'get_weather' } } }), call()));
  assert.equal(mock.requests[0]!.body.tool_choice, 'REQUIRED');
  const tc = first.choices[0]?.message.tool_calls?.[0];
  assert.equal(first.choices[0]?.finish_reason, 'tool_calls');
  assert.equal(tc?.function.name, 'get_weather');
  assert.equal(first.choices[0]?.message.content, null);
  const second = chat(await adapter.send(chatReq([
    { role: 'user', content: 'weather please' },
    { role: 'assistant', content: 'let me look', tool_calls: [tc!] },
    { role: 'tool', tool_call_id: tc!.id, content: 'sunny' },
  ], { tools: [weatherTool] }), call()));
  const up = mock.requests[1]!.body.messages;
  assert.equal(up[1].tool_plan, 'let me look');
  assert.equal(up[1].tool_calls[0].function.name, 'get_weather');
  assert.deepEqual(up[2], { role: 'tool', tool_call_id: tc!.id, content: 'sunny' });
  assert.equal(second.choices[0]?.message.content, 'Tool result: sunny');
});

test('stream: content deltas, tool-call deltas, finish and usage; cut-off and error end', async () => {
  const s = await collect(await adapter.send(chatReq([{ role: 'user', content: 'stream me now' }], { stream: true, stream_options: { include_usage: true } }), call()));
  assert.equal(s.error, undefined);
  assert.equal(streamedText(s.chunks), 'Echo: stream me now');
  assert.equal(s.chunks.at(-2)?.choices[0]?.finish_reason, 'stop');
  assert.equal(s.chunks.at(-1)?.usage?.completion_tokens, 4);
  const t = await collect(await adapter.send(chatReq([{ role: 'user', content: 'get_weather' }], { stream: true, tools: [weatherTool] }), call()));
  assert.deepEqual(JSON.parse(streamedToolCalls(t.chunks)[0]!.arguments), { input: 'get_weather' });
  assert.equal(t.chunks.at(-1)?.choices[0]?.finish_reason, 'tool_calls');
  mock.enqueue({ truncateStream: true });
  const cut = await collect(await adapter.send(chatReq([{ role: 'user', content: 'x' }], { stream: true }), call()));
  assert.match((cut.error as Error).message, /before message-end/);
  mock.enqueue({ errorEvent: true, message: 'model fell over' });
  const err = await collect(await adapter.send(chatReq([{ role: 'user', content: 'x' }], { stream: true }), call()));
  assert.match((err.error as Error).message, /model fell over/);
});

test('embed: texts, input_type, float embeddings, billed tokens; base64 on request', async () => {
  const out = response(await adapter.send(req('embedding', ['one two', 'three'], { dimensions: 4, encoding_format: 'base64' }, 'embed-v4.0'), call())).embedding_response!;
  const b = mock.requests[0]!.body;
  assert.deepEqual(b, { model: 'embed-v4.0', texts: ['one two', 'three'], input_type: 'search_document', embedding_types: ['float'], output_dimension: 4 });
  assert.equal(out.data.length, 2);
  assert.equal(Buffer.from(out.data[0]!.embedding as string, 'base64').length, 16);
  assert.equal(out.usage.prompt_tokens, 3);
});

test('rerank: query and documents, results best first with index and score, documents echoed on request', async () => {
  const r = response(await adapter.rerank(req('rerank', { query: 'red apple', documents: ['a green pear', { text: 'a red apple' }, 'apple pie'] }, { top_n: 2, return_documents: true }, 'rerank-v3.5'), call())).rerank_response!;
  assert.deepEqual(mock.requests[0]!.body, { model: 'rerank-v3.5', query: 'red apple', documents: ['a green pear', 'a red apple', 'apple pie'], top_n: 2 });
  assert.deepEqual(r.results.map((x) => x.index), [1, 2]);
  assert.equal(r.results[0]!.document?.text, 'a red apple');
  assert.ok(r.results[0]!.relevance_score > r.results[1]!.relevance_score);
  const bad = await rejection(adapter.rerank(req('rerank', { query: 'q', documents: [] }, {}, 'rerank-v3.5'), call()));
  assert.equal(bad.status, 400);
});

test('errors: Cohere message and status; a wrong key is a 401 with its message', async () => {
  const auth = await rejection(adapter.send(chatReq([{ role: 'user', content: 'x' }]), call('wrong-key')));
  assert.equal(auth.status, 401);
  assert.match(auth.message, /invalid api token/);
  mock.enqueue({ status: 429, retryAfter: 1 });
  const limited = await rejection(adapter.send(chatReq([{ role: 'user', content: 'x' }]), call()));
  assert.equal(limited.status, 429);
  assert.equal(limited.retryAfterMs, 1000);
  assert.match(limited.message, /Trial key/);
});
