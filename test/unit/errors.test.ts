import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES, GatewayError, fromLLMError, isEmptyLLMError } from '../../packages/gateway/src/schema/errors.js';

test('docs/errors.md lists exactly the codes of schema/errors.ts, with their status and type', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `(GH_ERR_\w+)` \| (\w+(?:'s)?) \| ([\w']+) \|/gm)];
  const documented = new Map(rows.map((m) => [m[1], { status: m[2], type: m[3] }]));
  assert.deepEqual([...documented.keys()].sort(), Object.keys(ERROR_CODES).sort());
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    const row = documented.get(code)!;
    if (code === 'GH_ERR_UPSTREAM_STATUS') continue;
    assert.equal(row.status, String(spec.status), `${code} status`);
    assert.equal(row.type, spec.type, `${code} type`);
  }
});

test('GatewayError is branded: instanceof works for lookalikes from another copy', () => {
  const e = new GatewayError('GH_ERR_NOT_FOUND', 'x');
  assert.ok(e instanceof GatewayError);
  assert.ok(!(new Error('x') instanceof GatewayError));
  assert.deepEqual(e.toBody(), { error: { message: 'x', type: 'not_found_error', code: 'GH_ERR_NOT_FOUND', param: null } });
});

test('plugin errors: empty means cleared; a status outside 4xx/5xx falls back to the code default', () => {
  assert.equal(isEmptyLLMError({}), true);
  assert.equal(isEmptyLLMError({ error: {} }), true);
  assert.equal(isEmptyLLMError({ status_code: 429 }), false);
  assert.equal(isEmptyLLMError({ error: { message: 'no' } }), false);
  const e = fromLLMError({ status_code: 429, error: { message: 'slow', type: 'rate_limit', code: '429' }, allow_fallbacks: false });
  assert.equal(e.status, 429);
  assert.equal(e.type, 'rate_limit');
  assert.equal(e.allowFallbacks, false);
  assert.equal(fromLLMError({ status_code: 200, error: { message: 'odd' } }).status, 400);
});
