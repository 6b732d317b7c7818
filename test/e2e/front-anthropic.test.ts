/**
 * The Anthropic front (/anthropic/v1/messages, /v1/messages, count_tokens) with the official
 * @anthropic-ai/sdk: pass-through to an Anthropic upstream, translation to OpenAI and the mock,
 * the event sequence, tool use, errors in Anthropic's shape, and hooks seeing the internal schema.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startAnthropicUpstream, type MockUpstream } from '../mocks/anthropic-upstream.js';
import { startOpenAIUpstream } from '../mocks/openai-upstream.js';

const weather: Anthropic.Tool = { name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

describe('Anthropic front, no plugins', () => {
  let anthropic: MockUpstream;
  let openai: MockUpstream;
  let gw: TestGateway;
  let client: Anthropic;
  before(async () => {
    anthropic = await startAnthropicUpstream();
    openai = await startOpenAIUpstream();
    gw = await startTestGateway({
      providers: {
        anthropic: { keys: [{ value: 'sk-ant-provider-secret' }], network_config: { base_url: anthropic.url } },
        openai: { keys: [{ value: 'sk-openai-provider-secret' }], network_config: { base_url: openai.url } },
        mock: { keys: [{ value: '' }] },
      },
    });
    client = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await gw.close(500);
    await anthropic.close();
    await openai.close();
  });

  test('an unprefixed model goes to the anthropic provider, bytes passed through untouched', async () => {
    const body = { model: 'claude-sonnet-4-5', max_tokens: 256, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: 'hello there' }] };
    const before = anthropic.requests.length;
    const msg = await client.messages.create(body as Anthropic.MessageCreateParamsNonStreaming, { headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14' } });
    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.deepEqual(msg.content, [{ type: 'text', text: 'Echo: hello there' }]);
    assert.equal(msg.stop_reason, 'end_turn');
    const up = anthropic.requests[before]!;
    assert.equal(up.path, '/v1/messages');
    assert.deepEqual(JSON.parse(up.rawBody), body, 'fields the internal schema lacks (thinking) survive');
    assert.equal(up.headers['anthropic-beta'], 'interleaved-thinking-2025-05-14');
    assert.equal(up.headers['x-api-key'], 'sk-ant-provider-secret', "the provider's key, never the client's");
  });

  test('streaming passes the real event sequence through, tool use included', async () => {
    const stream = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 256, tools: [weather], messages: [{ role: 'user', content: 'get_weather for Paris' }] });
    const types: string[] = [];
    stream.on('streamEvent', (e) => types.push(e.type));
    const final = await stream.finalMessage();
    assert.equal(final.stop_reason, 'tool_use');
    const tool = final.content.find((b) => b.type === 'tool_use');
    assert.ok(tool && tool.type === 'tool_use');
    assert.equal(tool.name, 'get_weather');
    assert.deepEqual(tool.input, { input: 'get_weather for Paris' });
    assert.equal(types[0], 'message_start');
    assert.equal(types.at(-1), 'message_stop');
    assert.ok(types.includes('content_block_delta'));
  });

  test('openai/gpt-4o is translated: text, usage, and the stream as Anthropic events', async () => {
    const msg = await client.messages.create({ model: 'openai/gpt-4o', max_tokens: 100, system: 'be brief', messages: [{ role: 'user', content: 'hi from anthropic' }] });
    assert.equal(msg.content[0]?.type, 'text');
    assert.equal((msg.content[0] as Anthropic.TextBlock).text, 'Echo: hi from anthropic');
    assert.ok(msg.usage.output_tokens > 0);
    const up = openai.requests.at(-1)!;
    assert.equal(up.path, '/v1/chat/completions');
    assert.equal(up.body.model, 'gpt-4o');
    assert.deepEqual(up.body.messages[0], { role: 'system', content: 'be brief' });

    const stream = client.messages.stream({ model: 'openai/gpt-4o', max_tokens: 100, messages: [{ role: 'user', content: 'stream it to me' }] });
    const events: Anthropic.MessageStreamEvent[] = [];
    stream.on('streamEvent', (e) => events.push(e));
    const final = await stream.finalMessage();
    assert.equal((final.content[0] as Anthropic.TextBlock).text, 'Echo: stream it to me');
    assert.deepEqual([...new Set(events.map((e) => e.type))], ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    const delta = events.find((e) => e.type === 'message_delta') as Anthropic.MessageDeltaEvent;
    assert.equal(delta.delta.stop_reason, 'end_turn');
    assert.ok(delta.usage.output_tokens > 0, 'message_delta carries the usage');
  });

  test('tool use translated from OpenAI streams input_json_delta, and a tool_result goes back up', async () => {
    const stream = client.messages.stream({ model: 'openai/gpt-4o', max_tokens: 100, tools: [weather], messages: [{ role: 'user', content: 'call get_weather now' }] });
    const deltas: string[] = [];
    stream.on('streamEvent', (e) => { if (e.type === 'content_block_delta') deltas.push(e.delta.type); });
    const final = await stream.finalMessage();
    assert.equal(final.stop_reason, 'tool_use');
    const tool = final.content.find((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock;
    assert.equal(tool.name, 'get_weather');
    assert.ok(deltas.includes('input_json_delta'));
    const next = await client.messages.create({
      model: 'openai/gpt-4o', max_tokens: 100, tools: [weather],
      messages: [
        { role: 'user', content: 'call get_weather now' },
        { role: 'assistant', content: final.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: tool.id, content: 'sunny, 21C' }] },
      ],
    });
    assert.equal(next.content[0]?.type, 'text');
    const up = openai.requests.at(-1)!;
    assert.deepEqual(up.body.messages.at(-1), { role: 'tool', tool_call_id: tool.id, content: 'sunny, 21C' });
    assert.equal(up.body.messages.at(-2).tool_calls[0].function.name, 'get_weather');
  });

  test('count_tokens: native on anthropic, estimated by the mock', async () => {
    const n = await client.messages.countTokens({ model: 'claude-sonnet-4-5', system: 'one two', messages: [{ role: 'user', content: 'three four five' }] });
    assert.equal(n.input_tokens, 5);
    assert.equal(anthropic.requests.at(-1)!.path, '/v1/messages/count_tokens');
    const m = await client.messages.countTokens({ model: 'mock/claude', messages: [{ role: 'user', content: 'a b c d' }] });
    assert.equal(m.input_tokens, 4);
    // OpenAI has no count_tokens endpoint for chat: a 400 naming the provider and the front.
    await assert.rejects(client.messages.countTokens({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'x' }] }), (e: unknown) => {
      assert.ok(e instanceof Anthropic.BadRequestError);
      assert.match((e.error as { error: { message: string } }).error.message, /provider "openai" does not support count_tokens requests, so the anthropic front cannot be translated to it/);
      return true;
    });
  });

  test('errors come back as Anthropic errors, with the right status', async () => {
    await assert.rejects(client.messages.create({ model: 'claude-x', messages: [{ role: 'user', content: 'x' }] } as unknown as Anthropic.MessageCreateParamsNonStreaming), (e: unknown) => {
      assert.ok(e instanceof Anthropic.BadRequestError);
      assert.equal((e.error as { type: string }).type, 'error');
      assert.match(e.message, /max_tokens: Field required/);
      return true;
    });
    anthropic.enqueue({ status: 429 });
    await assert.rejects(client.messages.create({ model: 'claude-x', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }), (e: unknown) => e instanceof Anthropic.RateLimitError);
    const raw = await postJson(`${gw.url}/v1/messages`, { model: 'claude-x', max_tokens: 5, messages: [] }, { 'anthropic-version': '2023-06-01' });
    assert.equal(raw.status, 400);
    assert.equal(raw.json.type, 'error');
    assert.equal(raw.json.error.type, 'invalid_request_error');
    assert.doesNotMatch(raw.text, /sk-ant-provider-secret|sk-openai-provider-secret/);
    const version = await postJson(`${gw.url}/v1/messages`, { model: 'claude-x', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }, { 'anthropic-version': '2099-01-01' });
    assert.equal(version.status, 400);
    assert.match(version.json.error.message, /anthropic-version/);
    const notFound = await postJson(`${gw.url}/anthropic/v1/nothing`, {});
    assert.equal(notFound.status, 404);
    assert.equal(notFound.json.error.type, 'not_found_error');
    // A prefix that is no configured provider is part of an Anthropic model name.
    const odd = await postJson(`${gw.url}/v1/messages`, { model: 'nope/claude', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(odd.headers.get('x-gatehouse-provider'), 'anthropic');
    assert.equal(anthropic.requests.at(-1)!.body.model, 'nope/claude');
  });
});

describe('Anthropic front with plugins: hooks see the internal schema', () => {
  let anthropic: MockUpstream;
  let gw: TestGateway;
  let client: Anthropic;
  before(async () => {
    anthropic = await startAnthropicUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'gh-anthropic-front-'));
    const plugin = join(dir, 'seen.mjs');
    writeFileSync(plugin, `
      export const name = 'seen';
      export function preLLMHook(ctx, req) {
        globalThis.__ghAnthropicSeen = { type: req.request_type, model: req.model, provider: req.provider, roles: req.input.map((m) => m.role) };
        if (JSON.stringify(req.input).includes('forbidden')) {
          return { shortCircuit: { error: { status_code: 403, error: { message: 'blocked by policy', type: 'permission' } } } };
        }
        if (JSON.stringify(req.input).includes('canned')) {
          return { shortCircuit: { response: { chat_response: { id: 'chatcmpl-canned', object: 'chat.completion', created: 1, model: req.model,
            choices: [{ index: 0, message: { role: 'assistant', content: 'canned answer' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } } } } };
        }
      }
      export function postLLMHook(ctx, resp, err) {
        const c = resp?.chat_response;
        if (c?.object === 'chat.completion.chunk' && c.choices[0]?.delta?.content) c.choices[0].delta.content = c.choices[0].delta.content.toUpperCase();
        if (c?.object === 'chat.completion' && typeof c.choices[0]?.message?.content === 'string') c.choices[0].message.content += ' [seen]';
      }
    `);
    gw = await startTestGateway({
      providers: { anthropic: { keys: [{ value: 'sk-ant-provider-secret' }], network_config: { base_url: anthropic.url } } },
      plugins: [{ name: 'seen', path: plugin }],
    });
    client = new Anthropic({ baseURL: gw.url, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await gw.close(500);
    await anthropic.close();
  });

  test('the pre-hook sees a chat request; the post-hook changes the answer, whole and streamed', async () => {
    const msg = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 50, system: 'sys', messages: [{ role: 'user', content: 'hello' }] });
    assert.deepEqual((globalThis as { __ghAnthropicSeen?: unknown }).__ghAnthropicSeen, { type: 'chat_completion', model: 'claude-sonnet-4-5', provider: 'anthropic', roles: ['system', 'user'] });
    assert.equal((msg.content[0] as Anthropic.TextBlock).text, 'Echo: hello [seen]');
    const stream = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'quiet words' }] });
    const final = await stream.finalMessage();
    assert.equal((final.content[0] as Anthropic.TextBlock).text, 'ECHO: QUIET WORDS');
  });

  test("a plugin's error and short-circuit answer reach the client in Anthropic's format", async () => {
    await assert.rejects(client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'forbidden topic' }] }), (e: unknown) => {
      assert.ok(e instanceof Anthropic.PermissionDeniedError);
      assert.match(e.message, /blocked by policy/);
      return true;
    });
    const msg = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'canned please' }] });
    assert.equal((msg.content[0] as Anthropic.TextBlock).text, 'canned answer [seen]');
    const stream = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'canned stream' }] });
    const final = await stream.finalMessage();
    assert.equal((final.content[0] as Anthropic.TextBlock).text, 'canned answer [seen]', 'post-hooks ran once, on the whole answer');
    assert.equal(final.usage.output_tokens, 2);
  });
});
