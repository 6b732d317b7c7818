import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startOpenAIUpstream, type MockUpstream } from '../mocks/openai-upstream.js';
import { postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Provider misbehaviour not covered by provider-faults.test.ts and streaming.test.ts: a connection
 * reset mid-body, invalid JSON, 503 with retry-after, slow answers within the timeout. Each case
 * runs against its own gateway, and afterwards no upstream socket and no timer may be left behind.
 */
const user = (content: string) => [{ role: 'user', content }];

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** Parses an SSE body into its data payloads. */
function events(text: string): string[] {
  return text.split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
}

describe('provider misbehaviour: correct error or successful retry, nothing leaked', () => {
  let mock: MockUpstream;
  before(async () => {
    mock = await startOpenAIUpstream({ keys: ['k1'] });
  });
  after(() => mock.close());

  /**
   * Runs `fn` against a fresh gateway, closes it, then checks that the mock has no open socket
   * left (as before the gateway existed), and that the process holds no more timers than before
   * (one of slack: the test runner's own).
   */
  async function withGateway(network: Record<string, unknown>, fn: (gw: TestGateway) => Promise<void>, extraProviders: Record<string, unknown> = {}): Promise<void> {
    mock.reset();
    // Start from a clean slate: an earlier leak must not blur this test's count.
    await waitFor(() => mock.openSockets() === 0, 6000);
    const sockets0 = mock.openSockets();
    assert.equal(sockets0, 0, 'no upstream socket open before the gateway starts');
    const timers0 = timers();
    const gw = await startTestGateway({
      providers: {
        openai: {
          keys: [{ value: 'k1', models: ['gpt-4o-mini'] }],
          network_config: { base_url: mock.url, max_retries: 2, retry_backoff_initial_ms: 5, retry_backoff_max_ms: 2000, default_request_timeout_in_seconds: 2, stream_idle_timeout_in_seconds: 1, ...network },
        },
        ...extraProviders,
      },
    });
    try {
      await fn(gw);
      assert.ok(mock.requests.length > 0, 'the gateway did talk to the upstream');
    } finally {
      await gw.close(1000);
    }
    // A closed gateway's sockets go within milliseconds; a leaked keep-alive one would stay for seconds.
    await waitFor(() => mock.openSockets() === sockets0 && timers() <= timers0 + 1, 1500);
    assert.equal(mock.openSockets(), sockets0, 'no upstream socket is left open once the gateway closed');
    assert.ok(timers() <= timers0 + 1, `timers: ${timers0} before, ${timers()} after`);
    assert.equal(gw.gateway.inflight, 0);
  }

  test('connection reset mid-body (non-streaming), once: the retry succeeds', () => withGateway({}, async (gw) => {
    mock.enqueue({ reset: 'mid-body' });
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/gpt-4o-mini', messages: user('reset once') });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.choices[0].message.content, 'Echo: reset once');
    assert.equal(mock.requests.length, 2);
    assert.equal(mock.requests[0]?.fault?.reset, 'mid-body');
  }));

  test('connection reset mid-body on every attempt: 502 after max_retries, naming the provider', () => withGateway({}, async (gw) => {
    mock.enqueue({ reset: 'mid-body' }, 3);
    const started = Date.now();
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/gpt-4o-mini', messages: user('reset always') });
    assert.equal(res.status, 502, res.text);
    assert.equal(res.json.error.code, 'GH_ERR_UPSTREAM_UNREACHABLE');
    assert.match(res.json.error.message, /^openai: /);
    assert.equal(res.headers.get('x-gatehouse-provider'), 'openai');
    assert.equal(mock.requests.length, 3, '1 attempt + 2 retries');
    assert.ok(Date.now() - started < 2000, `answered in ${Date.now() - started} ms`);
  }));

  test('connection reset mid-stream, after events reached the client: an error event ends the stream, no retry', () => withGateway({}, async (gw) => {
    // Spaced out, so the first events are read and forwarded before the socket dies.
    mock.enqueue({ reset: 'mid-body', chunkDelayMs: 50 });
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/gpt-4o-mini', stream: true, messages: user('a b c d e f g h') });
    assert.equal(res.status, 200);
    const evs = events(res.text);
    assert.ok(evs.length >= 2, res.text);
    const last = JSON.parse(evs.at(-1) as string);
    assert.equal(last.error.code, 'GH_ERR_UPSTREAM_UNREACHABLE', res.text);
    assert.ok(!evs.includes('[DONE]'));
    assert.ok(JSON.parse(evs[0] as string).choices, 'the events before the reset were delivered');
    assert.match(last.error.message, /^openai: /);
    assert.equal(mock.requests.length, 1, 'nothing is retried once bytes reached the client');
  }));

  test('invalid JSON body, once: the retry succeeds', () => withGateway({}, async (gw) => {
    mock.enqueue({ invalidJson: true });
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/gpt-4o-mini', messages: user('json once') });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.choices[0].message.content, 'Echo: json once');
    assert.equal(mock.requests.length, 2);
  }));

  test('invalid JSON body on every attempt: 502 GH_ERR_UPSTREAM_BAD_RESPONSE after the retries', () => withGateway({}, async (gw) => {
    mock.enqueue({ invalidJson: true }, 3);
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/gpt-4o-mini', messages: user('json always') });
    assert.equal(res.status, 502, res.text);
    assert.equal(res.json.error.code, 'GH_ERR_UPSTREAM_BAD_RESPONSE');
    assert.match(res.json.error.message, /not valid JSON/);
    assert.equal(mock.requests.length, 3);
    // The embeddings path reads JSON the same way.
    mock.reset();
    mock.enqueue({ invalidJson: true }, 3);
    const emb = await postJson(`${gw.baseURL}/embeddings`, { model: 'openai/gpt-4o-mini', input: 'x' });
    assert.equal(emb.status, 502);
    assert.equal(emb.json.error.code, 'GH_ERR_UPSTREAM_BAD_RESPONSE');
  }));

  test('invalid JSON as the first stream event: retried before anything reached the client', () => withGateway({}, async (gw) => {
    mock.enqueue({ invalidJson: true });
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/gpt-4o-mini', stream: true, messages: user('x y') });
    assert.equal(res.status, 200);
    const evs = events(res.text);
    assert.equal(evs.at(-1), '[DONE]', res.text);
    const text = evs.slice(0, -1).map((e) => JSON.parse(e).choices[0]?.delta.content ?? '').join('');
    assert.equal(text, 'Echo: x y');
    assert.equal(mock.requests.length, 2);
  }));

  test('503 with retry-after: 1 is honoured (the retry waits about a second) and succeeds', () => withGateway({}, async (gw) => {
    mock.enqueue({ status: 503, retryAfter: 1, message: 'overloaded' });
    const started = Date.now();
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/gpt-4o-mini', messages: user('after the wait') });
    const waited = Date.now() - started;
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.choices[0].message.content, 'Echo: after the wait');
    assert.equal(mock.requests.length, 2);
    assert.ok(waited >= 950 && waited < 1800, `waited ${waited} ms for retry-after: 1 (backoff alone would be ~5 ms)`);
  }));

  test('503 with a retry-after longer than retry_backoff_max_ms: not waited for, the fallback answers at once', () => withGateway({}, async (gw) => {
    mock.enqueue({ status: 503, retryAfter: 30, message: 'come back later' });
    const started = Date.now();
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/gpt-4o-mini', messages: user('fall back'), fallbacks: ['mock/backup'] });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-gatehouse-provider'), 'mock');
    assert.equal(mock.requests.length, 1);
    assert.ok(Date.now() - started < 500, `answered in ${Date.now() - started} ms`);
    // Without a fallback, the provider's 503 and message reach the client.
    mock.enqueue({ status: 503, retryAfter: 30, message: 'come back later' });
    const alone = await postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/gpt-4o-mini', messages: user('no fallback') });
    assert.equal(alone.status, 503);
    assert.match(alone.json.error.message, /come back later/);
  }, { mock: { keys: [{ value: '', models: ['backup'] }] } }));

  test('a slow answer within the timeout succeeds, without a retry', () => withGateway({ default_request_timeout_in_seconds: 2 }, async (gw) => {
    mock.enqueue({ delayMs: 1200 });
    const started = Date.now();
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/gpt-4o-mini', messages: user('slowly') });
    const took = Date.now() - started;
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.choices[0].message.content, 'Echo: slowly');
    assert.equal(mock.requests.length, 1, 'not retried');
    assert.ok(took >= 1150 && took < 2000, `took ${took} ms`);
  }));

  test('a slow stream (gaps under the idle timeout) completes', () => withGateway({ stream_idle_timeout_in_seconds: 1 }, async (gw) => {
    mock.enqueue({ chunkDelayMs: 300 });
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/gpt-4o-mini', stream: true, messages: user('one two three') });
    const evs = events(res.text);
    assert.equal(evs.at(-1), '[DONE]', res.text);
    assert.equal(evs.slice(0, -1).map((e) => JSON.parse(e).choices[0]?.delta.content ?? '').join(''), 'Echo: one two three');
  }));

  test('an upstream that hangs: timers and sockets are released too (504 path)', () => withGateway({ default_request_timeout_in_seconds: 0.5, max_retries: 1 }, async (gw) => {
    mock.enqueue({ hang: true }, 2);
    const during = timers();
    const pending = postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/gpt-4o-mini', messages: user('hang') });
    await mock.waitForRequests(1);
    assert.ok(timers() >= during, 'a timer runs while the upstream hangs');
    const res = await pending;
    assert.equal(res.status, 504);
    assert.equal(res.json.error.code, 'GH_ERR_UPSTREAM_TIMEOUT');
    await Promise.all(mock.requests.map((r) => r.settled));
    assert.ok(mock.requests.every((r) => r.aborted), 'the gateway gave up on the hung requests');
  }));
});
