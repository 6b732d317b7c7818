// The behaviour every hello-world WASM example shares (AssemblyScript, Rust, and TinyGo when it can
// be built), checked by one suite so the languages cannot drift apart: each example's test file
// calls it with its own build and names.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { mockConfig, startTestGateway, type TestGateway } from '../../test/helpers/gateway.js';

export interface HelloWorldCase {
  label: string;
  /** Absolute path of the built module. */
  wasm: string;
  name: string;
  header: string;
  greeting: string;
}

export function helloWorldSuite(c: HelloWorldCase): void {
  describe(`example plugin: ${c.label}`, () => {
    let gw: TestGateway;
    let client: OpenAI;
    before(async () => {
      gw = await startTestGateway(mockConfig({ plugins: [{ name: c.name, path: c.wasm, config: { header: c.header, greeting: c.greeting } }] }));
      client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'unused', maxRetries: 0 });
    });
    after(async () => { await gw.close(500); });

    test('each hook sees what the earlier ones left; http_post_hook reports it in a header', async () => {
      const { data, response } = await client.chat.completions
        .create({ model: 'mock/hello', messages: [{ role: 'user', content: 'hi there' }] })
        .withResponse();
      assert.equal(data.choices[0]?.message.content, 'Echo: hi there', 'the provider answered');
      assert.deepEqual(JSON.parse(response.headers.get(c.header) ?? 'null'), {
        http_pre: 'POST /v1/chat/completions',
        pre: 'mock/hello after POST /v1/chat/completions',
        post: 'response',
      });
    });

    test('model mock-model: pre_hook answers without calling the provider', async () => {
      const { data, response } = await client.chat.completions
        .create({ model: 'mock/mock-model', messages: [{ role: 'user', content: 'ping' }] })
        .withResponse();
      assert.equal(data.choices[0]?.message.content, `${c.greeting} (you said: ping)`);
      assert.equal(data.model, 'mock-model');
      assert.equal(data.choices[0]?.finish_reason, 'stop');
      // The short-circuit still goes through the post-hooks: the header is there, no provider call.
      assert.equal(JSON.parse(response.headers.get(c.header) ?? 'null').post, 'response');
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
      await assert.rejects(startTestGateway(mockConfig({ plugins: [{ name: 'bad', path: c.wasm, config: { header: '' } }] })), /init returned 1/);
    });
  });
}
