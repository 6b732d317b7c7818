import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { mockConfig, startTestGateway, type TestGateway } from '../../../test/helpers/gateway.js';

const WASM = new URL('./build/rate-limiter-wasm.wasm', import.meta.url).pathname;

declare global { var __rateLimiterTrace: string[] } // eslint-disable-line no-var

// A native plugin placed before the limiter records every LLM attempt (fallback attempts included).
const tracer = join(mkdtempSync(join(tmpdir(), 'rl-trace-')), 'trace.mjs');
writeFileSync(tracer, 'export function preLLMHook(ctx, req) { globalThis.__rateLimiterTrace.push(req.provider + "/" + req.model); }\n');

describe('example plugin: rate-limiter-wasm', () => {
  let gw: TestGateway;
  let fast: TestGateway;
  const client = (g: TestGateway, key: string) => new OpenAI({ baseURL: g.baseURL, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'x-api-key': key } });
  const ask = (g: TestGateway, key: string, content = 'hi') =>
    client(g, key).chat.completions.create({ model: 'mock/m', messages: [{ role: 'user', content }], fallbacks: ['mock/backup'] } as never).withResponse();

  before(async () => {
    globalThis.__rateLimiterTrace = [];
    gw = await startTestGateway(mockConfig({
      plugins: [
        { name: 'trace', path: tracer },
        { name: 'limiter', path: WASM, config: { capacity: 3, refill_per_second: 0.001 } },
      ],
    }));
    fast = await startTestGateway(mockConfig({ plugins: [{ name: 'limiter', path: WASM, config: { capacity: 1, refill_per_second: 20 } }] }));
  });
  after(async () => { await gw.close(500); await fast.close(500); });

  test('capacity 3: three requests pass, the fourth is a 429 RateLimitError and no fallback is tried', async () => {
    for (let i = 3; i > 0; i--) {
      const { data, response } = await ask(gw, 'key-a', `n${i}`);
      assert.equal(data.choices[0]?.message.content, `Echo: n${i}`);
      assert.equal(response.headers.get('x-ratelimit-limit'), '3');
      assert.equal(response.headers.get('x-ratelimit-remaining'), String(i - 1));
    }
    globalThis.__rateLimiterTrace = [];
    await assert.rejects(ask(gw, 'key-a', 'one more'), (err: unknown) => {
      assert.ok(err instanceof OpenAI.RateLimitError, `got ${String(err)}`);
      assert.equal(err.status, 429);
      assert.match(err.message, /rate limit exceeded for this key/);
      assert.equal((err.error as { type?: string } | undefined)?.type, 'rate_limit');
      assert.equal(err.headers?.get('x-ratelimit-remaining'), '0');
      assert.ok(Number(err.headers?.get('retry-after')) >= 1, 'retry-after set');
      return true;
    });
    assert.deepEqual(globalThis.__rateLimiterTrace, ['mock/m'], 'allow_fallbacks: false: mock/backup was never attempted');
  });

  test('buckets are per key; the key comes from the x-api-key header', async () => {
    const { data } = await ask(gw, 'key-b');
    assert.equal(data.choices[0]?.message.content, 'Echo: hi');
    await assert.rejects(ask(gw, 'key-a'), OpenAI.RateLimitError);
  });

  test('tokens refill over time (capacity 1, 20 per second)', async () => {
    await ask(fast, 'k');
    await assert.rejects(ask(fast, 'k'), OpenAI.RateLimitError);
    await new Promise((r) => setTimeout(r, 120));
    const { data } = await ask(fast, 'k');
    assert.equal(data.choices[0]?.message.content, 'Echo: hi');
  });
});
