import assert from 'node:assert/strict';
import { test } from 'node:test';

import { RequestContext } from '../../../packages/gateway/src/schema/context.js';
import type { HttpRequestData } from '../../../packages/gateway/src/schema/http.js';
import { httpPostInput, httpPreInput, streamChunkInput } from '../../../packages/gateway/src/plugins/wasm/shapes.js';

const request = (): HttpRequestData => ({
  method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json', 'x-a': '1' },
  query: {}, path_params: {}, body: new TextEncoder().encode('{"model":"m"}'),
});
const requestOf = (input: string): HttpRequestData & { body: string } => JSON.parse(input).request;

test('hook inputs: the request JSON is reused only while the request is unchanged', () => {
  const ctx = new RequestContext('r');
  const req = request();
  const first = httpPreInput(ctx, req);
  assert.equal(streamChunkInput(ctx, req, '{}').includes(JSON.stringify(requestOf(first))), true);
  // Every kind of change shows in the next hook's input.
  req.headers['x-a'] = '2';
  assert.equal(requestOf(httpPostInput(ctx, req, null)).headers['x-a'], '2');
  req.headers['x-b'] = 'new';
  assert.equal(requestOf(httpPostInput(ctx, req, null)).headers['x-b'], 'new');
  delete req.headers['x-b'];
  assert.equal('x-b' in requestOf(httpPostInput(ctx, req, null)).headers, false);
  req.query.q = 'v';
  assert.equal(requestOf(httpPostInput(ctx, req, null)).query.q, 'v');
  req.body = new TextEncoder().encode('{"model":"other"}');
  assert.equal(Buffer.from(requestOf(httpPostInput(ctx, req, null)).body, 'base64').toString(), '{"model":"other"}');
  req.body = null;
  assert.equal(requestOf(httpPostInput(ctx, req, null)).body, null);
  const fresh = request();
  fresh.body = req.body;
  fresh.headers = { ...req.headers };
  fresh.query = { ...req.query };
  assert.deepEqual(requestOf(httpPreInput(ctx, fresh)), requestOf(httpPostInput(ctx, req, null)));
});
