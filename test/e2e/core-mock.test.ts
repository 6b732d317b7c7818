import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { mockConfig, postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('gateway core through the openai SDK, mock provider', () => {
  let gw: TestGateway;
  let client: OpenAI;
  before(async () => {
    gw = await startTestGateway(mockConfig({ client: { max_request_body_size_mb: 0.01 } }));
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => gw.close(1000));

  test('chat completion, non-streaming', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'mock/mock-model', messages: [{ role: 'user', content: 'hello gateway' }] }).withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.choices[0]?.message.content, 'Echo: hello gateway');
    assert.equal(data.choices[0]?.finish_reason, 'stop');
    assert.deepEqual(data.usage, { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
    assert.equal(response.headers.get('x-gatehouse-provider'), 'mock');
    assert.ok(response.headers.get('x-request-id'));
    const overhead = Number(response.headers.get('x-gatehouse-overhead-ms'));
    assert.ok(Number.isFinite(overhead) && overhead >= 0 && overhead < 1000, `overhead header: ${overhead}`);
  });

  test('chat completion, streaming with usage', async () => {
    const stream = await client.chat.completions.create({
      model: 'mock/mock-model', stream: true, stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'one two three' }],
    });
    let text = '';
    let finish: string | null = null;
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, 'Echo: one two three');
    assert.equal(finish, 'stop');
    assert.deepEqual(usage, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
  });

  test('tools: the model calls the tool the message names', async () => {
    const res = await client.chat.completions.create({
      model: 'mock/mock-model',
      messages: [{ role: 'user', content: 'please get_weather for Paris' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }],
    });
    const call = res.choices[0]?.message.tool_calls?.[0];
    assert.equal(res.choices[0]?.finish_reason, 'tool_calls');
    assert.equal(call?.type, 'function');
    assert.equal(call?.type === 'function' ? call.function.name : '', 'get_weather');
  });

  test('images in content parts are accepted', async () => {
    const res = await client.chat.completions.create({
      model: 'mock/mock-model',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }],
    });
    assert.equal(res.choices[0]?.message.content, 'Echo: what is this [image]');
  });

  test('embeddings and text completions', async () => {
    const emb = await client.embeddings.create({ model: 'mock/embed', input: ['a', 'b'] });
    assert.equal(emb.data.length, 2);
    assert.equal(emb.data[0]?.embedding.length, 8);
    const cmp = await client.completions.create({ model: 'mock/text', prompt: 'say hi' });
    assert.equal(cmp.choices[0]?.text, 'Echo: say hi');
  });

  test('models and health', async () => {
    const health = await (await fetch(`${gw.url}/health`)).json();
    assert.equal(health.status, 'ok');
    assert.deepEqual(health.providers, ['mock']);
    const models = await client.models.list();
    assert.ok(Array.isArray(models.data));
  });

  test('unknown provider: 400 naming the configured providers, as the SDK typed error', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'nowhere/model', messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && /configured provider: mock/.test(err.message),
    );
  });

  test('malformed JSON: 400 with the OpenAI error shape', async () => {
    const res = await postJson(`${gw.baseURL}/chat/completions`, '{"model": "mock/x", "messages": [');
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, 'GH_ERR_INVALID_JSON');
    assert.equal(res.json.error.type, 'invalid_request_error');
    assert.ok('param' in res.json.error);
  });

  test('missing and mistyped fields: 400 naming the field', async () => {
    const noMessages = await postJson(`${gw.baseURL}/chat/completions`, { model: 'mock/x' });
    assert.equal(noMessages.status, 400);
    assert.equal(noMessages.json.error.param, 'messages');
    const badStream = await postJson(`${gw.baseURL}/chat/completions`, { model: 'mock/x', messages: [{ role: 'user', content: 'x' }], stream: 'yes' });
    assert.equal(badStream.status, 400);
    assert.equal(badStream.json.error.param, 'stream');
    const badRole = await postJson(`${gw.baseURL}/chat/completions`, { model: 'mock/x', messages: [{ content: 'x' }] });
    assert.equal(badRole.json.error.param, 'messages[0].role');
  });

  test('body over the limit: 413', async () => {
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'mock/x', messages: [{ role: 'user', content: 'x'.repeat(20_000) }] });
    assert.equal(res.status, 413);
    assert.equal(res.json.error.code, 'GH_ERR_BODY_TOO_LARGE');
    // The gateway still answers afterwards.
    const ok = await postJson(`${gw.baseURL}/chat/completions`, { model: 'mock/x', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(ok.status, 200);
  });

  test('content type: JSON under a lenient type is read; multipart, binary or a compressed body gets 415 naming it', async () => {
    const body = JSON.stringify({ model: 'mock/x', messages: [{ role: 'user', content: 'typed' }] });
    // curl -d sends x-www-form-urlencoded; some clients send text/plain; charset parameters are fine.
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'application/json; charset=utf-8', 'application/vnd.api+json']) {
      const ok = await postJson(`${gw.baseURL}/chat/completions`, body, { 'content-type': type });
      assert.equal(ok.status, 200, `${type}: ${ok.text}`);
    }
    for (const [headers, re] of [
      [{ 'content-type': 'multipart/form-data; boundary=x' }, /Content-Type "multipart\/form-data" is not supported/],
      [{ 'content-type': 'application/octet-stream' }, /application\/octet-stream/],
      [{ 'content-encoding': 'gzip' }, /Content-Encoding "gzip"/],
    ] as const) {
      const res = await postJson(`${gw.baseURL}/chat/completions`, body, headers);
      assert.equal(res.status, 415, res.text);
      assert.equal(res.json.error.code, 'GH_ERR_UNSUPPORTED_MEDIA_TYPE');
      assert.equal(res.json.error.type, 'invalid_request_error');
      assert.match(res.json.error.message, re);
    }
  });

  test('unknown route: 404; wrong method: 405', async () => {
    const res = await fetch(`${gw.url}/v2/whatever`);
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error.type, 'not_found_error');
    const get = await fetch(`${gw.baseURL}/chat/completions`);
    assert.equal(get.status, 405);
  });
});
