import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mockConfig, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Native (ES module) plugins that misbehave, through the real gateway over HTTP: hooks that throw
 * (synchronously, asynchronously, non-Error values), return a wrong type from every hook, never
 * settle (bounded by `limits.timeout_ms`), or change what they must not (the reserved
 * `request_id` through `ctx.values`, method/path, `req.headers`, a body that is not bytes, an LLM
 * request or response replaced by junk). For each, under `fail_closed` and `fail_open`: a clear
 * error naming the plugin and the hook (500 `GH_ERR_PLUGIN_FAILED`; an error event in a stream;
 * 409 for method/path), or the change ignored; never "internal error", never a hang; the next
 * request is served; nothing escapes to the process.
 */

const dir = mkdtempSync(join(tmpdir(), 'gh-native-mb-'));
const PLUGIN = join(dir, 'misbehave.mjs');
// One configurable module: config { hook, act, value? } implements only `hook`, misbehaving as `act`.
writeFileSync(PLUGIN, `
const acts = {
  throw: () => { throw new Error('boom (sync)'); },
  'throw-async': async () => { await new Promise((r) => setTimeout(r, 5)); throw new Error('boom (async)'); },
  'throw-value': () => { throw 42; },
  'throw-null': () => { throw null; },
  hang: () => new Promise(() => {}),
  return: (cfg) => cfg.value,
  'return-bytes-body': () => ({ status_code: 200, headers: {}, body: 'not bytes' }),
  'return-bad-headers': () => ({ status_code: 200, headers: 42, body: null }),
  'return-bad-status': () => ({ status_code: 99999, headers: {}, body: null }),
  'forge-request-id': (cfg, ctx) => { ctx.values.request_id = 'forged'; },
  'delete-request-id': (cfg, ctx) => { delete ctx.values.request_id; },
  'replace-values': (cfg, ctx) => { ctx.values = {}; },
  'method': (cfg, ctx, req) => { req.method = 'GET'; },
  'path': (cfg, ctx, req) => { req.path = '/v1/embeddings'; },
  'delete-headers': (cfg, ctx, req) => { delete req.headers; },
  'headers-string': (cfg, ctx, req) => { req.headers = 'x'; },
  'body-string': (cfg, ctx, req) => { req.body = '{"model":"mock/x","messages":[]}'; },
  'body-object': (cfg, ctx, req) => { req.body = { model: 'mock/x' }; },
  'body-number': (cfg, ctx, req) => { req.body = 42; },
  'resp-status-string': (cfg, ctx, req, resp) => { if (resp) resp.status_code = 'x'; },
  'resp-headers-number': (cfg, ctx, req, resp) => { if (resp) resp.headers = 42; },
  'resp-body-string': (cfg, ctx, req, resp) => { if (resp) resp.body = 'not bytes'; },
  'resp-bad-header': (cfg, ctx, req, resp) => { if (resp) resp.headers['x-bad'] = 'a\\nb'; },
  'params-null': (cfg, ctx, req) => { req.params = null; },
  'input-number': (cfg, ctx, req) => { req.input = 42; },
  'model-number': (cfg, ctx, req) => { req.model = 42; },
};
export default function misbehave(cfg) {
  const act = acts[cfg.act];
  if (!act) throw new Error('unknown act ' + cfg.act);
  return {
    name: 'misbehave',
    [cfg.hook]: (ctx, a, b) => act(cfg, ctx, a, b),
  };
}
`);

type Hook = 'httpTransportPreHook' | 'httpTransportPostHook' | 'httpTransportStreamChunkHook' | 'preLLMHook' | 'postLLMHook';
const HOOKS: Hook[] = ['httpTransportPreHook', 'httpTransportPostHook', 'httpTransportStreamChunkHook', 'preLLMHook', 'postLLMHook'];

/**
 * failure: a plugin failure (fail_closed: 500 naming plugin and hook, or an error event in a
 * stream; fail_open: the normal answer); ignored: the normal answer whatever the policy;
 * status N: that status whatever the policy.
 */
type Expect = 'failure' | 'ignored' | { status: number; code: string };
interface Case { hook: Hook; act: string; value?: unknown; expect: Expect; stream?: boolean; timeoutMs?: number }

const cases: Case[] = [];
for (const hook of HOOKS) {
  const stream = hook === 'httpTransportStreamChunkHook';
  for (const act of ['throw', 'throw-async', 'throw-value', 'throw-null']) cases.push({ hook, act, expect: 'failure', stream });
  cases.push({ hook, act: 'hang', expect: 'failure', stream, timeoutMs: 150 });
  // A forged or deleted request id is put back (the write is dropped, as setValue would).
  for (const act of ['forge-request-id', 'delete-request-id', 'replace-values']) cases.push({ hook, act, expect: 'ignored', stream });
}
// Wrong return types, every hook.
const wrong: Array<[Hook, unknown]> = [
  ['httpTransportPreHook', 42], ['httpTransportPreHook', 'x'], ['httpTransportPreHook', true], ['httpTransportPreHook', [1]],
  ['httpTransportPreHook', { status_code: '200' }],
  ['preLLMHook', 'a string'], ['preLLMHook', 42], ['preLLMHook', { request: 42 }], ['preLLMHook', { request: 'x' }],
  ['preLLMHook', { request: { foo: 1 } }], ['preLLMHook', { shortCircuit: 'x' }], ['preLLMHook', { shortCircuit: { response: 42 } }],
  ['preLLMHook', { shortCircuit: { error: 'boom' } }], ['preLLMHook', { shortCircuit: { response: { chat_response: 'x' } } }],
  ['postLLMHook', { response: 'nope' }], ['postLLMHook', { error: 'nope' }], ['postLLMHook', 42], ['postLLMHook', 'x'],
  ['postLLMHook', { response: { chat_response: 42 } }], ['postLLMHook', { response: {}, error: null }],
  ['httpTransportStreamChunkHook', 42], ['httpTransportStreamChunkHook', 'a string'], ['httpTransportStreamChunkHook', [1, 2]],
  ['httpTransportStreamChunkHook', true],
  ['httpTransportPostHook', 42], ['httpTransportPostHook', { status_code: 'x' }],
];
for (const [hook, value] of wrong) {
  // A transport post-hook's return value is not used (contract: return nothing).
  cases.push({ hook, act: 'return', value, expect: hook === 'httpTransportPostHook' ? 'ignored' : 'failure', stream: hook === 'httpTransportStreamChunkHook' });
}
cases.push(
  { hook: 'httpTransportPreHook', act: 'return-bytes-body', expect: 'failure' },
  { hook: 'httpTransportPreHook', act: 'return-bad-headers', expect: 'failure' },
  { hook: 'httpTransportPreHook', act: 'return-bad-status', expect: 'failure' },
  { hook: 'httpTransportPreHook', act: 'method', expect: { status: 409, code: 'GH_ERR_ROUTE_CHANGED_BY_PLUGIN' } },
  { hook: 'httpTransportPreHook', act: 'path', expect: { status: 409, code: 'GH_ERR_ROUTE_CHANGED_BY_PLUGIN' } },
  { hook: 'httpTransportPreHook', act: 'delete-headers', expect: 'failure' },
  { hook: 'httpTransportPreHook', act: 'headers-string', expect: 'failure' },
  { hook: 'httpTransportPreHook', act: 'body-string', expect: 'failure' },
  { hook: 'httpTransportPreHook', act: 'body-object', expect: 'failure' },
  { hook: 'httpTransportPreHook', act: 'body-number', expect: 'failure' },
  // A transport post-hook that leaves the answer unsendable: logged, the answer goes out as it was.
  { hook: 'httpTransportPostHook', act: 'resp-status-string', expect: 'failure' },
  { hook: 'httpTransportPostHook', act: 'resp-headers-number', expect: 'failure' },
  { hook: 'httpTransportPostHook', act: 'resp-body-string', expect: 'failure' },
  { hook: 'httpTransportPostHook', act: 'resp-bad-header', expect: 'failure' },
  { hook: 'preLLMHook', act: 'params-null', expect: 'failure' },
  { hook: 'preLLMHook', act: 'input-number', expect: 'failure' },
  { hook: 'preLLMHook', act: 'model-number', expect: 'failure' },
);

const escapes: unknown[] = [];
const onEscape = (e: unknown): void => { escapes.push(e); };
before(() => {
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
});
after(() => {
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
});

interface Answer { status: number; body: string; requestId: string | null; ms: number }
async function send(gw: TestGateway, stream: boolean, requestId: string): Promise<Answer> {
  const t0 = performance.now();
  const res = await fetch(`${gw.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ model: 'mock/m', messages: [{ role: 'user', content: 'hello there' }], stream }),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: await res.text(), requestId: res.headers.get('x-request-id'), ms: performance.now() - t0 };
}

function label(c: Case): string {
  return `${c.hook} ${c.act}${c.value !== undefined ? ` ${JSON.stringify(c.value)}` : ''}`;
}

describe('native plugins that misbehave', () => {
  for (const policy of ['fail_closed', 'fail_open'] as const) {
    for (const c of cases) {
      test(`${policy}: ${label(c)}`, async () => {
        const gw = await startTestGateway(mockConfig({
          plugins: [{ name: 'mb', path: PLUGIN, on_error: policy, config: { hook: c.hook, act: c.act, value: c.value }, limits: { timeout_ms: c.timeoutMs ?? 2000 } }],
        }));
        try {
          const what = `${policy} ${label(c)}`;
          const rid = `rid-${Math.random().toString(36).slice(2)}`;
          const a = await send(gw, c.stream ?? false, rid);
          assert.doesNotMatch(a.body, /GH_ERR_INTERNAL|internal error/, `${what}: ${a.body.slice(0, 400)}`);
          assert.ok(a.ms < 3000, `${what}: took ${a.ms} ms`);
          // The request id the client sent stays the request's id, whatever the plugin wrote.
          assert.equal(a.requestId, rid, what);
          const logged = gw.logs.filter((l) => l.msg === 'plugin failure' && l.request_id === rid);
          const normal = (): void => {
            assert.equal(a.status, 200, `${what}: ${a.status} ${a.body.slice(0, 400)}`);
            if (c.stream) {
              assert.match(a.body, /data: \[DONE\]\s*$/, `${what}: ${a.body.slice(-400)}`);
              assert.match(a.body, /"content":"hello /, what);
            } else {
              assert.equal(JSON.parse(a.body).choices[0].message.content, 'Echo: hello there', what);
            }
          };
          if (c.expect === 'ignored') {
            normal();
          } else if (c.expect === 'failure') {
            // Once per request, or (a chunk hook under fail_open) once per event.
            if (c.stream && policy === 'fail_open') assert.ok(logged.length >= 1, `${what}: no failure logged`);
            else assert.equal(logged.length, 1, `${what}: ${logged.length} failures logged`);
            assert.equal(logged[0]!.plugin, 'mb');
            assert.equal(logged[0]!.hook, c.hook);
            if (policy === 'fail_open' || c.hook === 'httpTransportPostHook') {
              normal();
            } else if (c.stream) {
              assert.equal(a.status, 200, what);
              assert.match(a.body, new RegExp(`data: \\{"error":\\{"message":"plugin \\\\"mb\\\\" failed in ${c.hook}: `), `${what}: ${a.body.slice(-400)}`);
              assert.doesNotMatch(a.body, /\[DONE\]/, what);
            } else {
              assert.equal(a.status, 500, `${what}: ${a.body.slice(0, 400)}`);
              const err = JSON.parse(a.body).error;
              assert.equal(err.code, 'GH_ERR_PLUGIN_FAILED', what);
              assert.equal(err.type, 'plugin_error', what);
              assert.match(err.message, new RegExp(`^plugin "mb" failed in ${c.hook}: .+`), what);
            }
          } else {
            assert.equal(a.status, c.expect.status, `${what}: ${a.body.slice(0, 400)}`);
            assert.equal(JSON.parse(a.body).error.code, c.expect.code, what);
          }
          // The next request is served (the misbehaving plugin is still there and misbehaves again,
          // so under fail_open it is a normal answer; under fail_closed, its policy's answer again).
          const next = await send(gw, c.stream ?? false, `${rid}-next`);
          assert.ok(next.status === a.status, `${what}: next request ${next.status} ${next.body.slice(0, 300)}`);
          assert.deepEqual(escapes, [], `${what}: an exception escaped to the process`);
        } finally {
          await gw.close(1000);
        }
      });
    }
  }
});

test('a plugin that never settles delays the request by timeout_ms only, and leaves no timer behind', async () => {
  const gw = await startTestGateway(mockConfig({
    plugins: [{ name: 'mb', path: PLUGIN, on_error: 'fail_open', config: { hook: 'preLLMHook', act: 'hang' }, limits: { timeout_ms: 200 } }],
  }));
  try {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const a = await send(gw, false, 'rid-hang');
    assert.equal(a.status, 200);
    assert.ok(a.ms >= 190 && a.ms < 1500, `took ${a.ms} ms`);
    const afterCount = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    assert.ok(afterCount <= before, `timers: ${before} before, ${afterCount} after`);
  } finally {
    await gw.close(1000);
  }
});
