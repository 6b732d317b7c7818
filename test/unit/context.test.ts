import assert from 'node:assert/strict';
import { test } from 'node:test';

import { RequestContext } from '../../packages/gateway/src/schema/context.js';

test('context JSON text: reused while unchanged, rebuilt on any change, never cached with object values', () => {
  const ctx = new RequestContext('r1');
  const json = (): string => ctx.toJsonText();
  assert.equal(json(), '{"request_id":"r1"}');
  assert.equal(json(), '{"request_id":"r1"}');
  ctx.setValue('a', 1);
  assert.equal(json(), '{"request_id":"r1","a":1}');
  // A write that bypasses setValue is seen too: the cache compares every value.
  ctx.values.a = 2;
  assert.equal(json(), '{"request_id":"r1","a":2}');
  delete ctx.values.a;
  assert.equal(json(), '{"request_id":"r1"}');
  // An object value may change in place: the text is built every time.
  const nested = { n: 1 };
  ctx.setValue('o', nested);
  assert.equal(json(), '{"request_id":"r1","o":{"n":1}}');
  nested.n = 2;
  assert.equal(json(), '{"request_id":"r1","o":{"n":2}}');
  ctx.merge({ b: 'x' });
  assert.equal(json(), '{"request_id":"r1","b":"x"}');
  assert.equal(json(), JSON.stringify(ctx.values));
});
