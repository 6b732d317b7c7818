// Calls the hooks directly with plain objects. `gatehouse plugin test .` bundles and runs this
// after its conformance check (no install needed); `node --import tsx --test test/` works too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LLMRequest, RequestContext } from 'gatehouse';
import create from '../src/plugin.js';

function context(): RequestContext {
  const values: Record<string, unknown> = { request_id: 'test-1' };
  return { values, value: (k: string) => values[k], setValue: (k: string, v: unknown) => ((values[k] = v), true) } as unknown as RequestContext;
}
const request = (model: string): LLMRequest => ({
  request_type: 'chat_completion', provider: 'openai', model, input: [{ role: 'user', content: 'hi' }], params: {}, fallbacks: [],
});

test('an ordinary model goes through and is noted in the context', async () => {
  const ctx = context();
  assert.equal(await create().preLLMHook!(ctx, request('gpt-4o-mini')), undefined);
  assert.equal(ctx.value('__NAME__.model'), 'gpt-4o-mini');
});

test('the blocked model gets a 403 without fallbacks', async () => {
  const out = await create({ blocked_model: 'blocked-model' }).preLLMHook!(context(), request('blocked-model'));
  assert.equal(out?.shortCircuit?.error?.status_code, 403);
  assert.equal(out?.shortCircuit?.error?.allow_fallbacks, false);
});
