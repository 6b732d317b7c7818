import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startOpenAIUpstream, type MockUpstream } from '../mocks/openai-upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const user = (content: string) => [{ role: 'user' as const, content }];

describe('provider faults through the openai SDK (OpenAI mock upstream)', () => {
  let mock: MockUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  let deadPort: number;

  before(async () => {
    mock = await startOpenAIUpstream({ keys: ['k1', 'k2'], chunkDelayMs: 0 });
    deadPort = await closedPort();
    gw = await startTestGateway({
      providers: {
        openai: {
          keys: [{ name: 'k1', value: 'k1', models: ['gpt-4o-mini'] }, { name: 'k2', value: 'k2', models: ['gpt-4o-mini'] }],
          network_config: { base_url: mock.url, max_retries: 2, retry_backoff_initial_ms: 5, retry_backoff_max_ms: 50, default_request_timeout_in_seconds: 1, stream_idle_timeout_in_seconds: 1 },
        },
        groq: {
          keys: [{ value: 'gk', models: ['llama'] }],
          network_config: { base_url: `http://127.0.0.1:${deadPort}`, max_retries: 1, retry_backoff_initial_ms: 5 },
        },
        mock: { keys: [{ value: '', models: ['backup'] }] },
      },
    });
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await gw.close(500);
    await mock.close();
  });

  test('upstream 500 then 200: the retry succeeds', async () => {
    mock.reset();
    mock.enqueue({ status: 500, message: 'boom' });
    const res = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: user('retry me') });
    assert.equal(res.choices[0]?.message.content, 'Echo: retry me');
    assert.equal(mock.requests.length, 2);
  });

  test('429 on one key: the retry goes to the other key', async () => {
    mock.reset();
    mock.failKey('k1', { status: 429, message: 'slow down' });
    for (let i = 0; i < 6; i++) {
      const res = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: user(`n${i}`) });
      assert.equal(res.choices[0]?.message.content, `Echo: n${i}`);
    }
    const keys = mock.requests.map((r) => r.key);
    // Every request that hit k1 was followed by one on k2, and every answer came from k2.
    keys.forEach((k, i) => { if (k === 'k1') assert.equal(keys[i + 1], 'k2'); });
    assert.ok(keys.filter((k) => k === 'k2').length === 6);
    mock.failKey('k1', undefined);
  });

  test('429 on one key moves to the other key with max_retries 0 and with a retry-after over the cap', async () => {
    const strict = await startTestGateway({
      providers: {
        openai: {
          keys: [{ name: 'k1', value: 'k1', models: ['gpt-4o-mini'] }, { name: 'k2', value: 'k2', models: ['gpt-4o-mini'] }],
          network_config: { base_url: mock.url, max_retries: 0, retry_backoff_initial_ms: 5, retry_backoff_max_ms: 50 },
        },
      },
    });
    try {
      const c = new OpenAI({ baseURL: strict.baseURL, apiKey: 'client-key', maxRetries: 0 });
      for (const fault of [{ status: 429, message: 'slow down' }, { status: 429, message: 'come back in a minute', retryAfter: 60 }]) {
        mock.reset();
        mock.failKey('k1', fault);
        for (let i = 0; i < 4; i++) {
          const res = await c.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: user(`switch${i}`) });
          assert.equal(res.choices[0]?.message.content, `Echo: switch${i}`);
        }
        assert.equal(mock.requests.filter((r) => r.key === 'k2').length, 4, 'every answer came from k2');
      }
      // Both keys rate-limited: no retry is allowed, so the 429 reaches the client.
      mock.failKey('k2', { status: 429, message: 'slow down' });
      await assert.rejects(c.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: user('none') }), (e: { status?: number }) => e.status === 429);
    } finally {
      mock.failKey('k1', undefined);
      mock.failKey('k2', undefined);
      await strict.close(500);
    }
  });

  test('401 on one key: the key is put aside and the other key answers', async () => {
    mock.reset();
    mock.setKeys(['k2']);
    for (let i = 0; i < 4; i++) {
      const res = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: user('auth') });
      assert.equal(res.choices[0]?.message.content, 'Echo: auth');
    }
    mock.setKeys(['k1', 'k2']);
  });

  test('upstream down: the fallback answers, and the header names it', async () => {
    const { data, response } = await client.chat.completions.create({
      model: 'groq/llama', messages: user('are you there'),
      // @ts-expect-error Gatehouse extension
      fallbacks: ['mock/backup'],
    }).withResponse();
    assert.equal(data.choices[0]?.message.content, 'Echo: are you there');
    assert.equal(response.headers.get('x-gatehouse-provider'), 'mock');
  });

  test('upstream down and no fallback: 502 as the SDK typed error', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'groq/llama', messages: user('x') }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 502);
      assert.match(err.message, /unreachable/);
      return true;
    });
  });

  test('upstream hangs: 504 within the timeout', async () => {
    mock.reset();
    mock.enqueue({ hang: true }, 3);
    const started = Date.now();
    await assert.rejects(client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: user('hang') }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 504);
      return true;
    });
    // 1 s timeout (undici's timers are coarse, up to ~1.5 s), 2 retries with tiny backoff.
    assert.ok(Date.now() - started < 6000, `took ${Date.now() - started} ms`);
    mock.reset();
  });

  test('upstream 4xx is passed through with the provider message and status', async () => {
    mock.reset();
    mock.enqueue({ status: 400, message: "Invalid value for 'temperature'" });
    await assert.rejects(client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: user('x') }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      assert.match(err.message, /Invalid value for 'temperature'/);
      return true;
    });
    assert.equal(mock.requests.length, 1, '4xx is not retried');
  });

  test('client aborts mid-stream: the upstream request is aborted', async () => {
    mock.reset();
    mock.enqueue({ chunkDelayMs: 150 });
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'openai/gpt-4o-mini', stream: true, messages: user('a b c d e f g h i j k l') },
      { signal: controller.signal },
    );
    let seen = 0;
    try {
      for await (const _chunk of stream) {
        if (++seen === 2) controller.abort();
      }
    } catch {
      /* the SDK may surface the abort as an error */
    }
    assert.ok(seen >= 2);
    const rec = mock.requests[0];
    assert.ok(rec);
    await Promise.race([rec.settled, new Promise((r) => setTimeout(r, 3000))]);
    assert.equal(rec.aborted, true, 'the mock saw the gateway abort the upstream request');
    assert.equal(rec.completed, false);
    const deadline = Date.now() + 2000;
    while (!gw.logs.some((l) => l.msg === 'client closed the stream') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const line = gw.logs.find((l) => l.msg === 'client closed the stream');
    assert.ok(line, 'the client leaving mid-stream is logged');
    assert.equal(line.code, 'GH_ERR_CLIENT_CLOSED');
    assert.equal(line.level, 30);
  });

  test('client leaves before the answer: the upstream call is cancelled, logged as client closed (499), not as an upstream failure', async () => {
    mock.reset();
    mock.enqueue({ delayMs: 2000 });
    const controller = new AbortController();
    const call = client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: user('too slow') }, { signal: controller.signal });
    await mock.waitForRequests(1);
    controller.abort();
    await assert.rejects(call);
    const rec = mock.requests[0]!;
    await Promise.race([rec.settled, new Promise((r) => setTimeout(r, 3000))]);
    assert.equal(rec.aborted, true, 'the mock saw the gateway abort the upstream request');
    assert.equal(mock.requests.length, 1, 'no retry and no fallback for a client that left');
    const deadline = Date.now() + 2000;
    while (!gw.logs.some((l) => l.code === 'GH_ERR_CLIENT_CLOSED') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const line = gw.logs.find((l) => l.code === 'GH_ERR_CLIENT_CLOSED');
    assert.ok(line, 'a log line names the client closing');
    assert.equal(line.level, 30, 'info, not a warning');
    assert.ok(!gw.logs.some((l) => l.request_id === line.request_id && l.level === 40), 'no "request failed" warning for it');
  });

  test('stream that stops without [DONE]: the client gets an error event', async () => {
    mock.reset();
    mock.enqueue({ truncateStream: true });
    const stream = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', stream: true, messages: user('one two three four') });
    await assert.rejects(async () => { for await (const _ of stream) { /* drain */ } }, /ended before \[DONE\]/);
  });

  test('200 with an error in the first stream event is retried before anything reaches the client', async () => {
    mock.reset();
    mock.enqueue({ errorEvent: true });
    const stream = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', stream: true, messages: user('second try') });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    assert.equal(text, 'Echo: second try');
    assert.equal(mock.requests.length, 2);
  });

  test('streaming, tools and embeddings pass through the OpenAI adapter', async () => {
    mock.reset();
    const stream = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: user('x y') });
    let usage;
    let text = '';
    for await (const c of stream) { text += c.choices[0]?.delta.content ?? ''; usage = c.usage ?? usage; }
    assert.equal(text, 'Echo: x y');
    assert.ok(usage);
    const tool = await client.chat.completions.create({
      model: 'openai/gpt-4o-mini', messages: user('call lookup now'),
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
    });
    const call = tool.choices[0]?.message.tool_calls?.[0];
    assert.equal(call?.type === 'function' ? call.function.name : '', 'lookup');
    const sent = mock.requests.at(-1)?.body;
    assert.equal(sent.model, 'gpt-4o-mini', 'the provider prefix is stripped');
    assert.equal(sent.fallbacks, undefined);
    assert.equal(mock.requests.at(-1)?.headers.authorization?.startsWith('Bearer k'), true, 'the provider key, not the client key, goes upstream');
  });

  test('no upstream socket is left open once the gateway closes', async () => {
    const g2 = await startTestGateway({ providers: { openai: { keys: [{ value: 'k1' }], network_config: { base_url: mock.url } } } });
    const c2 = new OpenAI({ baseURL: g2.baseURL, apiKey: 'x', maxRetries: 0 });
    const before = mock.openSockets();
    await Promise.all([1, 2, 3].map((i) => c2.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: user(`s${i}`) })));
    assert.ok(mock.openSockets() > before);
    await g2.close(500);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(mock.openSockets(), before);
  });
});
