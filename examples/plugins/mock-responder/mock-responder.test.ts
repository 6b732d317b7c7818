import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startTestGateway, type TestGateway } from '../../../test/helpers/gateway.js';
import { startOpenAIUpstream, type MockUpstream } from '../../../test/mocks/openai-upstream.js';

const PLUGIN = new URL('./index.ts', import.meta.url).pathname;

describe('example plugin: mock-responder', () => {
  let gw: TestGateway;
  let client: OpenAI;
  let upstream: MockUpstream;
  before(async () => {
    upstream = await startOpenAIUpstream({ models: ['gpt-canned', 'gpt-4o-mini'] });
    gw = await startTestGateway({
      providers: {
        mock: { keys: [{ value: '', models: [] }] },
        // A real-looking provider that lists `gpt-canned`: the plugin must answer before it is called.
        openai: { keys: [{ value: 'sk-test', models: ['gpt-canned', 'gpt-4o-mini'] }], network_config: { base_url: upstream.url } },
      },
      plugins: [{ name: 'mock-responder', path: PLUGIN, config: { replies: { 'mock/canned': 'This is a canned answer.', 'gpt-canned': 'Canned, whatever the question.' } } }],
    });
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gw.close(500);
    await upstream.close();
  });

  test('a configured model gets the canned reply; the provider is not called', async () => {
    const res = await client.chat.completions.create({ model: 'mock/canned', messages: [{ role: 'user', content: 'anything at all' }] });
    assert.equal(res.choices[0]?.message.content, 'This is a canned answer.');
    assert.equal(res.choices[0]?.finish_reason, 'stop');
    assert.deepEqual(res.usage, { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 });
    const bare = await client.chat.completions.create({ model: 'gpt-canned', messages: [{ role: 'user', content: 'hello?' }] });
    assert.equal(bare.choices[0]?.message.content, 'Canned, whatever the question.');
    assert.equal(upstream.requests.length, 0);
  });

  test('streaming: the canned reply arrives as stream events', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-canned', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream it' }],
    });
    let text = '';
    let finish: string | null = null;
    let usage: unknown;
    let events = 0;
    for await (const chunk of stream) {
      events++;
      assert.equal(chunk.object, 'chat.completion.chunk');
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, 'Canned, whatever the question.');
    assert.equal(finish, 'stop');
    assert.deepEqual(usage, { prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 });
    assert.ok(events >= 2);
    assert.equal(upstream.requests.length, 0);
  });

  test('other models go to their provider as usual', async () => {
    const res = await client.chat.completions.create({ model: 'mock/other', messages: [{ role: 'user', content: 'real call' }] });
    assert.equal(res.choices[0]?.message.content, 'Echo: real call');
    const up = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'upstream call' }] });
    assert.equal(up.choices[0]?.message.content, 'Echo: upstream call');
    assert.equal(upstream.requests.length, 1);
  });

  test('text completions too', async () => {
    const res = await client.completions.create({ model: 'mock/canned', prompt: 'complete me' });
    assert.equal(res.choices[0]?.text, 'This is a canned answer.');
  });
});
