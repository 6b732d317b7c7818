import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { mockConfig, startTestGateway, type TestGateway } from '../../../test/helpers/gateway.js';

const WASM = new URL('./build/hello-world-wasm-rust.wasm', import.meta.url).pathname;

describe('example plugin: hello-world-wasm-rust', () => {
  let gw: TestGateway;
  let client: OpenAI;
  before(async () => {
    gw = await startTestGateway(mockConfig({ plugins: [{ name: 'hello-rust', path: WASM, config: { header: 'x-hello-rust', greeting: 'Hi from Rust' } }] }));
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => { await gw.close(500); });

  test('each hook sees what the earlier ones left; http_post_hook reports it in a header', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'mock/hello', messages: [{ role: 'user', content: 'hi there' }] })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, 'Echo: hi there', 'the provider answered');
    assert.deepEqual(JSON.parse(response.headers.get('x-hello-rust') ?? 'null'), {
      http_pre: 'POST /v1/chat/completions',
      pre: 'mock/hello after POST /v1/chat/completions',
      post: 'response',
    });
  });

  test('model mock-model: pre_hook answers without calling the provider', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'mock/mock-model', messages: [{ role: 'user', content: 'ping' }] })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, 'Hi from Rust (you said: ping)');
    assert.equal(data.model, 'mock-model');
    assert.equal(data.choices[0]?.finish_reason, 'stop');
    assert.equal(JSON.parse(response.headers.get('x-hello-rust') ?? 'null').post, 'response');
  });

  test('streaming: the chunk hook counts chunks and puts a summary in the last one', async () => {
    const stream = await client.chat.completions.create({ model: 'mock/hello', stream: true, messages: [{ role: 'user', content: 'one two three' }] });
    let text = '';
    let summary: Record<string, unknown> | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      const extra = (chunk as unknown as { hello_wasm?: Record<string, unknown> }).hello_wasm;
      if (extra) summary = extra;
    }
    assert.equal(text, 'Echo: one two three');
    assert.deepEqual(summary, { http_pre: 'POST /v1/chat/completions', pre: 'mock/hello after POST /v1/chat/completions', chunks });
  });

  test('an empty header name in the config refuses to load, naming init', async () => {
    await assert.rejects(startTestGateway(mockConfig({ plugins: [{ name: 'bad', path: WASM, config: { header: '' } }] })), /init returned 1/);
  });
});
