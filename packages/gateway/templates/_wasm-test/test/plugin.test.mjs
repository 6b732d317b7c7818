// Runs the built module (build/__NAME__.wasm) through the small host in harness.mjs.
// `gatehouse plugin test .` runs this after the gateway's own conformance check.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPlugin } from './harness.mjs';

const wasm = new URL('../build/__NAME__.wasm', import.meta.url);
const request = (model) => ({
  context: { request_id: 'test-1', earlier: 'kept' },
  request: { request_type: 'chat_completion', provider: 'openai', model, input: [{ role: 'user', content: 'hi' }], params: {}, fallbacks: [] },
});

test('pre_hook lets an ordinary model through and keeps the context', () => {
  const plugin = loadPlugin(wasm);
  const out = plugin.call('pre_hook', request('gpt-4o-mini'));
  if (out === null) return; // no change at all is a pass-through
  assert.notEqual(out.has_short_circuit, true);
  if (out.context) assert.equal(out.context.earlier, 'kept');
});

test('pre_hook answers 403 for the blocked model', () => {
  const plugin = loadPlugin(wasm, { blocked_model: 'blocked-model' });
  const out = plugin.call('pre_hook', request('blocked-model'));
  assert.equal(out.has_short_circuit, true);
  assert.equal(out.short_circuit.error.status_code, 403);
  assert.equal(out.short_circuit.error.allow_fallbacks, false);
});
