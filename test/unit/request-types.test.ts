import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adapterOffers, callAdapter } from '../../packages/gateway/src/providers/dispatch.js';
import type { ProviderAdapter, ProviderResult } from '../../packages/gateway/src/providers/provider.js';
import { JsonBytes } from '../../packages/gateway/src/schema/bytes.js';
import { GatewayError } from '../../packages/gateway/src/schema/errors.js';
import { errorBody, renderError, streamErrorEvent } from '../../packages/gateway/src/schema/front-errors.js';
import { RESPONSE_KEY } from '../../packages/gateway/src/schema/response.js';
import { REQUEST_TYPES } from '../../packages/gateway/src/schema/request.js';
import { callFor, req } from './providers/helpers.js';

function adapter(extra: Partial<ProviderAdapter> = {}): ProviderAdapter {
  return {
    kind: 'fake', defaultBaseUrl: 'http://x', requiresKey: false,
    supports: (t) => t === 'chat_completion',
    send: async () => ({ kind: 'response', response: { chat_response: { id: 'c' } } }) as unknown as ProviderResult,
    ...extra,
  };
}

test('every request type has its own envelope key', () => {
  assert.equal(new Set(REQUEST_TYPES.map((t) => RESPONSE_KEY[t])).size, REQUEST_TYPES.length);
  assert.equal(RESPONSE_KEY.speech, 'speech_response');
  assert.equal(RESPONSE_KEY.image_generation, 'image_generation_response');
});

test('an adapter offers a new type by having its method; without it the call is a 400 naming provider and type', async () => {
  const bare = adapter();
  assert.equal(adapterOffers(bare, 'chat_completion'), true);
  assert.equal(adapterOffers(bare, 'embedding'), false);
  assert.equal(adapterOffers(bare, 'speech'), false);
  await assert.rejects(callAdapter(bare, 'elevenlabs-eu', req('rerank', { query: 'q', documents: ['a'] }), callFor('http://x')), (e: unknown) => {
    assert.ok(e instanceof GatewayError);
    assert.equal(e.status, 400);
    assert.equal(e.code, 'GH_ERR_UNSUPPORTED_OPERATION');
    assert.match(e.message, /provider "elevenlabs-eu" does not support rerank/);
    assert.notEqual(e.allowFallbacks, false);
    return true;
  });
  const seen: string[] = [];
  const withRerank = adapter({
    async rerank(r) {
      seen.push(`${this.kind}:${r.request_type}`);
      return { kind: 'response', response: { rerank_response: { model: r.model, results: [{ index: 0, relevance_score: 1 }] } } };
    },
  });
  assert.equal(adapterOffers(withRerank, 'rerank'), true);
  const out = await callAdapter(withRerank, 'p', req('rerank', { query: 'q', documents: ['a'] }), callFor('http://x'));
  assert.equal(out.kind, 'response');
  assert.deepEqual(seen, ['fake:rerank'], 'the method runs bound to its adapter');
});

test('binary values are bytes to native code and base64 in JSON', () => {
  const b = JsonBytes.wrap(Buffer.from('RIFF-audio'));
  assert.ok(b instanceof Uint8Array);
  assert.equal(JSON.stringify({ audio: b }), `{"audio":"${Buffer.from('RIFF-audio').toString('base64')}"}`);
  assert.deepEqual(Buffer.from(JsonBytes.read(Buffer.from('RIFF-audio').toString('base64'))!), Buffer.from('RIFF-audio'));
  assert.equal(JsonBytes.read(42), undefined);
});

test('errors render in each front\'s own shape', () => {
  const e = new GatewayError('GH_ERR_INVALID_REQUEST', "'model' is required", { param: 'model' });
  assert.deepEqual(errorBody('openai', e), { error: { message: "'model' is required", type: 'invalid_request_error', code: 'GH_ERR_INVALID_REQUEST', param: 'model' } });
  assert.deepEqual(errorBody('anthropic', e, 'req_1'), { type: 'error', error: { type: 'invalid_request_error', message: "'model' is required" }, request_id: 'req_1' });
  assert.deepEqual(errorBody('genai', e), { error: { code: 400, message: "'model' is required", status: 'INVALID_ARGUMENT' } });

  const limited = new GatewayError('GH_ERR_INVALID_REQUEST', 'budget', { status: 429, type: 'rate_limit', retryAfterMs: 1500 });
  const a = renderError('anthropic', limited, 'r2');
  assert.equal(a.status_code, 429);
  assert.equal(a.headers['retry-after'], '2');
  assert.equal(a.headers['request-id'], 'r2');
  assert.equal(JSON.parse(a.body.toString()).error.type, 'rate_limit_error');
  assert.equal(JSON.parse(renderError('genai', limited).body.toString()).error.status, 'RESOURCE_EXHAUSTED');
  const billing = new GatewayError('GH_ERR_INVALID_REQUEST', 'budget exceeded', { status: 402 });
  assert.equal((errorBody('anthropic', billing) as { error: { type: string } }).error.type, 'billing_error');
  assert.equal((errorBody('genai', new GatewayError('GH_ERR_UPSTREAM_TIMEOUT', 't')) as { error: { status: string } }).error.status, 'DEADLINE_EXCEEDED');
  // An Anthropic upstream's own type survives.
  const overloaded = new GatewayError('GH_ERR_UPSTREAM_STATUS', 'busy', { status: 529, type: 'overloaded_error' });
  assert.equal((errorBody('anthropic', overloaded) as { error: { type: string } }).error.type, 'overloaded_error');
  assert.deepEqual(streamErrorEvent('anthropic', overloaded), { event: 'error', data: '{"type":"error","error":{"type":"overloaded_error","message":"busy"}}' });
});
