import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { mockConfig, startTestGateway, type TestGateway } from '../../../test/helpers/gateway.js';

const PLUGIN = new URL('./index.ts', import.meta.url).pathname;

describe('example plugin: hello-world-native', () => {
  let gw: TestGateway;
  let client: OpenAI;
  const lines: string[] = [];
  const realLog = console.log;
  before(async () => {
    console.log = (...args: unknown[]) => {
      const line = args.map(String).join(' ');
      if (line.startsWith('[hello-world]')) lines.push(line);
      else realLog(...args);
    };
    gw = await startTestGateway(mockConfig({ plugins: [{ name: 'hello', path: PLUGIN, config: { log: true } }] }));
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    console.log = realLog;
    await gw.close(500);
  });

  test('values set in one hook are seen by later hooks, reported in x-hello-world', async () => {
    lines.length = 0;
    const { data, response } = await client.chat.completions
      .create({ model: 'mock/hello', messages: [{ role: 'user', content: 'hi there' }] }, { headers: { 'x-request-id': 'hello-1' } })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, 'Echo: hi there');
    assert.deepEqual(JSON.parse(response.headers.get('x-hello-world') ?? 'null'), {
      http_pre: 'POST /v1/chat/completions',
      pre: 'mock/hello after POST /v1/chat/completions',
      post: 'response',
    });
    // One log line per hook, in lifecycle order, all for this request.
    assert.deepEqual(lines.map((l) => l.split(' ')[1]), ['httpTransportPreHook', 'preLLMHook', 'postLLMHook', 'httpTransportPostHook']);
    assert.ok(lines.every((l) => l.includes('request=hello-1')));
    assert.match(lines[2] ?? '', /saw hello\.pre=mock\/hello after POST/);
  });

  test('streaming: the chunk hook counts chunks and reports the context in the last one', async () => {
    const stream = await client.chat.completions.create({ model: 'mock/hello', stream: true, messages: [{ role: 'user', content: 'one two three' }] });
    let text = '';
    let report: Record<string, unknown> | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      const extra = (chunk as unknown as { hello_world?: Record<string, unknown> }).hello_world;
      if (extra) report = extra;
    }
    assert.equal(text, 'Echo: one two three');
    // role chunk + 4 words + finish chunk
    assert.deepEqual(report, { http_pre: 'POST /v1/chat/completions', pre: 'mock/hello after POST /v1/chat/completions', post: 'response', chunks: 6 });
  });
});
