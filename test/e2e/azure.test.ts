import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import OpenAI from 'openai';
import { startTestGateway } from '../helpers/gateway.js';

test('azure: deployment URL, api-version query and api-key header; env.NAME endpoint', async () => {
  const seen: Array<{ url: string; apiKey: string | undefined; auth: string | undefined; body: any }> = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', apiKey: req.headers['api-key'] as string | undefined, auth: req.headers.authorization, body: JSON.parse(raw) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        id: 'chatcmpl-az', object: 'chat.completion', created: 1, model: 'gpt-4o',
        choices: [{ index: 0, message: { role: 'assistant', content: 'from azure' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
      }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const gw = await startTestGateway({
    providers: {
      azure: {
        keys: [{ value: 'env.GH_TEST_AZURE_KEY', models: ['gpt-4o'] }],
        meta_config: { endpoint: 'env.GH_TEST_AZURE_ENDPOINT', deployments: { 'gpt-4o': 'my-dep' }, api_version: '2024-08-01-preview' },
      },
    },
  }, { env: { ...process.env, GH_TEST_AZURE_KEY: 'az-secret', GH_TEST_AZURE_ENDPOINT: endpoint } });
  try {
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'x', maxRetries: 0 });
    const res = await client.chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(res.choices[0]?.message.content, 'from azure');
    assert.equal(seen[0]?.url, '/openai/deployments/my-dep/chat/completions?api-version=2024-08-01-preview');
    assert.equal(seen[0]?.apiKey, 'az-secret');
    assert.equal(seen[0]?.auth, undefined, 'Azure takes api-key, not a bearer token');
    assert.equal(seen[0]?.body.model, 'gpt-4o');
  } finally {
    await gw.close(200);
    server.close();
  }
});
