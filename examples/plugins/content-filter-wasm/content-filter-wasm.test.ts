import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { mockConfig, startTestGateway, type TestGateway } from '../../../test/helpers/gateway.js';

const WASM = new URL('./build/content-filter-wasm.wasm', import.meta.url).pathname;

describe('example plugin: content-filter-wasm', () => {
  let masking: TestGateway;
  let dropping: TestGateway;
  const client = (g: TestGateway) => new OpenAI({ baseURL: g.baseURL, apiKey: 'unused', maxRetries: 0 });
  /** Streams an answer through the mock provider (it echoes the last user message word by word). */
  async function stream(g: TestGateway, content: string): Promise<{ text: string; chunks: number }> {
    const s = await client(g).chat.completions.create({ model: 'mock/m', stream: true, messages: [{ role: 'user', content }] });
    let text = '';
    let chunks = 0;
    for await (const chunk of s) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
    }
    return { text, chunks };
  }

  before(async () => {
    const plugin = (mode: string) => mockConfig({ plugins: [{ name: 'filter', path: WASM, config: { words: ['secret', 'password'], mode } }] });
    masking = await startTestGateway(plugin('mask'));
    dropping = await startTestGateway(plugin('drop'));
  });
  after(async () => { await masking.close(500); await dropping.close(500); });

  test('mode mask, streaming: blocked words are masked in the chunks, any case', async () => {
    const { text } = await stream(masking, 'tell me a Secret now');
    assert.equal(text, 'Echo: tell me a ****** now');
  });

  test('mode drop, streaming: the chunk with the blocked word is not sent, the rest is', async () => {
    const clean = await stream(dropping, 'tell me a story now');
    const { text, chunks } = await stream(dropping, 'tell me a secret now');
    assert.equal(text, 'Echo: tell me a now');
    assert.equal(chunks, clean.chunks - 1, 'exactly one chunk dropped');
  });

  test('mode mask, streaming: a blocked phrase split across chunks is masked, and no text is lost', async () => {
    // The mock sends one word per chunk: "top" and " secret" arrive apart.
    const g = await startTestGateway(mockConfig({ plugins: [{ name: 'filter', path: WASM, config: { words: ['top secret'], mode: 'mask' } }] }));
    try {
      const plain = await stream(masking, 'this is top stuff');
      const { text, chunks } = await stream(g, 'this is top secret stuff');
      assert.equal(text, 'Echo: this is ********** stuff');
      assert.equal(chunks, plain.chunks + 1, 'every chunk still sent (one more word than the plain answer)');
      assert.equal((await stream(g, 'a top hat')).text, 'Echo: a top hat', 'held-back text is sent at the end');
    } finally {
      await g.close(500);
    }
  });

  test('a clean stream passes unchanged', async () => {
    assert.equal((await stream(masking, 'nothing to hide')).text, 'Echo: nothing to hide');
  });

  test('not streaming: mask rewrites the answer; drop turns it into a 400 content_filter error', async () => {
    const res = await client(masking).chat.completions.create({ model: 'mock/m', messages: [{ role: 'user', content: 'my PASSWORD and password' }] });
    assert.equal(res.choices[0]?.message.content, 'Echo: my ******** and ********');
    await assert.rejects(client(dropping).chat.completions.create({ model: 'mock/m', messages: [{ role: 'user', content: 'a secret' }] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError, String(err));
      assert.match(err.message, /blocked content/);
      return true;
    });
  });

  test('a bad mode fails the load with the plugin\'s own message', async () => {
    await assert.rejects(
      startTestGateway(mockConfig({ plugins: [{ name: 'filter', path: WASM, config: { words: ['x'], mode: 'shout' } }] })),
      /"mode" must be "mask" or "drop"/,
    );
  });
});
