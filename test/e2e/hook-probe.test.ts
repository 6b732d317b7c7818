/**
 * Plugins see the same internal request and response whichever provider serves the call: one
 * gateway with every adapter (each behind its own mock, as a custom provider on its base type),
 * one native probe plugin recording pre_hook and post_hook inputs, the same request to each.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import OpenAI from 'openai';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { PROVIDER_CASES } from '../helpers/provider-cases.js';
import type { MockUpstream } from '../mocks/mock-server.js';

declare global {
  // eslint-disable-next-line no-var
  var __ghProbe: Array<{ hook: string; req?: any; resp?: any; err?: any }> | undefined;
}

const PROBE = new URL('../fixtures/plugins/probe.mjs', import.meta.url).pathname;
const mocks: MockUpstream[] = [];
let gw: TestGateway;
let client: OpenAI;
const names = PROVIDER_CASES.map((c, i) => `probe-${i}-${c.provider}`);

before(async () => {
  const providers: Record<string, unknown> = {};
  for (const [i, c] of PROVIDER_CASES.entries()) {
    const mock = await c.start();
    mocks.push(mock);
    providers[names[i] as string] = { ...c.config(mock.url), custom_provider_config: { base_provider_type: c.provider } };
  }
  gw = await startTestGateway({ providers, plugins: [{ name: 'probe', path: PROBE }] });
  client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'c', maxRetries: 0 });
});
beforeEach(() => { globalThis.__ghProbe = []; });
after(async () => {
  await gw.close(500);
  for (const m of mocks) await m.close();
});

const messages = [{ role: 'system' as const, content: 'be brief' }, { role: 'user' as const, content: 'hello probe' }];

/** The parts of a chat completion that must not depend on the provider. */
function shape(resp: any): unknown {
  const c = resp.chat_response;
  return {
    keys: Object.keys(resp),
    object: c.object,
    types: { id: typeof c.id, created: typeof c.created, model: typeof c.model },
    choices: c.choices.map((ch: any) => ({ index: ch.index, role: ch.message?.role ?? ch.delta?.role, content: ch.message?.content ?? ch.delta?.content, finish_reason: ch.finish_reason })),
    usage: c.usage ? Object.fromEntries(['prompt_tokens', 'completion_tokens', 'total_tokens'].map((k) => [k, typeof c.usage[k]])) : null,
  };
}

test('pre_hook and post_hook inputs are the same for every adapter (non-streaming)', async () => {
  const seen: Array<{ req: any; resp: unknown }> = [];
  for (const [i, c] of PROVIDER_CASES.entries()) {
    globalThis.__ghProbe = [];
    const res = await client.chat.completions.create({ model: `${names[i]}/${c.model}`, messages, temperature: 0.5, max_tokens: 100 });
    assert.equal(res.choices[0]?.message.content, 'Echo: hello probe', `${c.provider} answer`);
    const pre = globalThis.__ghProbe.filter((e) => e.hook === 'pre');
    const post = globalThis.__ghProbe.filter((e) => e.hook === 'post');
    assert.equal(pre.length, 1);
    assert.equal(post.length, 1);
    assert.equal(post[0]!.err, null);
    assert.equal(pre[0]!.req.provider, names[i]);
    assert.equal(pre[0]!.req.model, c.model);
    const { provider: _p, model: _m, ...req } = pre[0]!.req;
    seen.push({ req, resp: shape(post[0]!.resp) });
  }
  for (const [i, s] of seen.entries()) {
    assert.deepEqual(s.req, seen[0]!.req, `${names[i]} pre_hook request`);
    assert.deepEqual(s.resp, seen[0]!.resp, `${names[i]} post_hook response`);
  }
  assert.deepEqual(seen[0]!.req, { request_type: 'chat_completion', input: messages, params: { temperature: 0.5, max_tokens: 100 }, fallbacks: [] });
});

test('streaming: every adapter hands post_hook chat.completion.chunk events with the same text and ending', async () => {
  for (const [i, c] of PROVIDER_CASES.entries()) {
    globalThis.__ghProbe = [];
    const stream = await client.chat.completions.create({ model: `${names[i]}/${c.model}`, messages, stream: true, stream_options: { include_usage: true } });
    let clientText = '';
    for await (const chunk of stream) clientText += chunk.choices[0]?.delta.content ?? '';
    const chunks = globalThis.__ghProbe.filter((e) => e.hook === 'post').map((e) => e.resp?.chat_response);
    assert.ok(chunks.length > 2, `${c.provider}: ${chunks.length} chunks`);
    assert.ok(chunks.every((ch) => ch?.object === 'chat.completion.chunk' && Array.isArray(ch.choices)), `${c.provider}: chunk objects`);
    const text = chunks.map((ch) => ch.choices[0]?.delta?.content ?? '').join('');
    assert.equal(text, 'Echo: hello probe', `${c.provider}: text seen by post_hook`);
    assert.equal(clientText, text);
    const finishes = chunks.map((ch) => ch.choices[0]?.finish_reason).filter(Boolean);
    assert.deepEqual(finishes, ['stop'], `${c.provider}: one finish_reason`);
    const usage = chunks.filter((ch) => ch.usage).at(-1)?.usage;
    assert.equal(typeof usage?.total_tokens, 'number', `${c.provider}: usage chunk`);
  }
});
