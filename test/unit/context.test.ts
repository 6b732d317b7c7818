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
  assert.equal(json(), '{"request_id":"r1","o":{"n":2},"b":"x"}');
  ctx.merge({ o: null });
  assert.equal(json(), '{"request_id":"r1","b":"x"}');
  assert.equal(json(), JSON.stringify(ctx.values));
});

test('merge: a returned key sets, a left-out key is kept, null removes; reserved keys and request_id are protected', () => {
  const ctx = new RequestContext('r1');
  ctx.setValue('a', 1);
  ctx.setValue('b', 2);
  ctx.setReserved('gatehouse.route', 'x');
  ctx.merge({});
  assert.deepEqual({ ...ctx.values }, { request_id: 'r1', a: 1, b: 2, 'gatehouse.route': 'x' }, '{} changes nothing');
  ctx.merge({ a: 10, b: null, c: [1], request_id: 'forged', 'gatehouse.route': null, 'gatehouse.new': 1 });
  assert.deepEqual({ ...ctx.values }, { request_id: 'r1', a: 10, c: [1], 'gatehouse.route': 'x' });
  for (const bad of [null, [], 'str', 3]) ctx.merge(bad);
  assert.deepEqual({ ...ctx.values }, { request_id: 'r1', a: 10, c: [1], 'gatehouse.route': 'x' }, 'a non-object is ignored');
});
