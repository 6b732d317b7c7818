/**
 * The plugin contract (shared/spec/plugin-contract.md, sections 1 and 2), one test per rule,
 * through real HTTP with the openai SDK. Plugins are small ES modules: the configurable tracer in
 * test/fixtures/plugins/tracer.mjs, or one-off modules written to a temp folder by the test.
 * Hooks run in this process, so plugins report what they saw through `globalThis.__ghTrace`
 * (order of calls) or through response headers (what the client sees).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import OpenAI from 'openai';
import { mockConfig, postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startOpenAIUpstream, type MockUpstream } from '../mocks/openai-upstream.js';

const FIXTURES = new URL('../fixtures/plugins/', import.meta.url).pathname;
const TRACER = join(FIXTURES, 'tracer.mjs');
const GATEWAY_INDEX = new URL('../../packages/gateway/src/index.ts', import.meta.url).pathname;
const PLUGIN_MODULE = new URL('../../packages/gateway/src/plugins/plugin.ts', import.meta.url).pathname;

declare global {
  // eslint-disable-next-line no-var
  var __ghTrace: string[] | undefined;
}

const dir = mkdtempSync(join(tmpdir(), 'gh-contract-'));
let seq = 0;
/** Writes a plugin module to the temp folder and returns its absolute path. */
function writePlugin(source: string, ext = '.mjs'): string {
  const file = join(dir, `plugin-${++seq}${ext}`);
  writeFileSync(file, source);
  return file;
}

function trace(): string[] {
  return globalThis.__ghTrace ?? [];
}

/** A loopback port nothing listens on (connections are refused). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

type PluginCfg = Record<string, unknown>;
const tracer = (id: string, extra: PluginCfg = {}, config: PluginCfg = {}): PluginCfg => ({ name: id, path: TRACER, config: { id, ...config }, ...extra });

const gateways: TestGateway[] = [];
async function gateway(plugins: PluginCfg[], extra: Record<string, unknown> = {}): Promise<{ gw: TestGateway; client: OpenAI }> {
  const gw = await startTestGateway(mockConfig({ plugins, ...extra }));
  gateways.push(gw);
  return { gw, client: new OpenAI({ baseURL: gw.baseURL, apiKey: 'unused', maxRetries: 0 }) };
}

const chat = (content: string) => ({ model: 'mock/mock-model', messages: [{ role: 'user' as const, content }] });

async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<string> {
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  return text;
}

describe('plugin contract, sections 1-2', () => {
  beforeEach(() => { globalThis.__ghTrace = []; });
  afterEach(async () => { while (gateways.length) await gateways.pop()!.close(500); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('transport pre-hooks run in configured order: placement group, then order, ties stable', async () => {
    const { client } = await gateway([
      tracer('c', { placement: 'post_builtin', order: 0 }, { hooks: ['httpPre'] }),
      tracer('a', { placement: 'pre_builtin', order: 5 }, { hooks: ['httpPre'] }),
      tracer('e', { placement: 'post_builtin', order: -3 }, { hooks: ['httpPre'] }),
      tracer('b', { placement: 'builtin', order: -1 }, { hooks: ['httpPre'] }),
      tracer('d', { placement: 'pre_builtin', order: 5 }, { hooks: ['httpPre'] }),
      tracer('default', {}, { hooks: ['httpPre'] }),
    ]);
    await client.chat.completions.create(chat('hi'));
    assert.deepEqual(trace(), ['a.httpPre', 'd.httpPre', 'b.httpPre', 'e.httpPre', 'c.httpPre', 'default.httpPre']);
  });

  test('LLM pre-hooks in order; LLM post-hooks and transport post-hooks in reverse', async () => {
    const { client } = await gateway([tracer('A'), tracer('B'), tracer('C')]);
    const res = await client.chat.completions.create(chat('order please'));
    assert.equal(res.choices[0]?.message.content, 'Echo: order please');
    assert.deepEqual(trace(), [
      'A.httpPre', 'B.httpPre', 'C.httpPre',
      'A.pre', 'B.pre', 'C.pre',
      'C.post', 'B.post', 'A.post',
      'C.httpPost', 'B.httpPost', 'A.httpPost',
    ]);
  });

  test('LLM pre-hook short-circuit at plugin i: no provider call, post-hooks run for i..0', async () => {
    const { client } = await gateway([tracer('A'), tracer('B', {}, { preShort: 'response' }), tracer('C')]);
    const res = await client.chat.completions.create(chat('never reaches the provider'));
    assert.equal(res.choices[0]?.message.content, 'short-circuited by B');
    assert.deepEqual(trace(), [
      'A.httpPre', 'B.httpPre', 'C.httpPre',
      'A.pre', 'B.pre',
      'B.post', 'A.post',
      'C.httpPost', 'B.httpPost', 'A.httpPost',
    ]);
    // A short-circuit with an error is symmetric too, and the client gets the plugin's error.
    globalThis.__ghTrace = [];
    const { client: c2 } = await gateway([tracer('A', {}, { hooks: ['pre', 'post'] }), tracer('B', {}, { hooks: ['pre', 'post'], preShort: 'error' }), tracer('C', {}, { hooks: ['pre', 'post'] })]);
    await assert.rejects(c2.chat.completions.create(chat('x')), (err: unknown) => err instanceof OpenAI.PermissionDeniedError && /refused by B/.test(err.message));
    assert.deepEqual(trace(), ['A.pre', 'B.pre', 'B.post', 'A.post']);
  });

  test('transport pre-hook short-circuit at plugin i: no LLM hook, transport post-hooks for 0..i-1 in reverse', async () => {
    const { gw } = await gateway([tracer('A'), tracer('B'), tracer('C', {}, { httpPreShort: true }), tracer('D')]);
    const res = await postJson(`${gw.baseURL}/chat/completions`, chat('x'));
    assert.equal(res.status, 418);
    assert.equal(res.headers.get('x-short-by'), 'C');
    assert.equal(res.json.error.message, 'short-circuited by C');
    assert.deepEqual(trace(), ['A.httpPre', 'B.httpPre', 'C.httpPre', 'B.httpPost', 'A.httpPost']);
  });

  test('transport pre-hook failure at plugin i: 500 naming it, transport post-hooks for 0..i-1 only', async () => {
    const { gw } = await gateway([tracer('A'), tracer('B'), tracer('C', {}, { httpPreThrow: true }), tracer('D')]);
    const res = await postJson(`${gw.baseURL}/chat/completions`, chat('x'));
    assert.equal(res.status, 500);
    assert.match(res.json.error.message, /plugin "C" failed in httpTransportPreHook: C broke/);
    assert.deepEqual(trace(), ['A.httpPre', 'B.httpPre', 'C.httpPre', 'B.httpPost', 'A.httpPost']);
  });

  test('recovery: a post-hook turns a provider error into a response (an empty error beside a response loses)', async () => {
    const port = await closedPort();
    const recover = writePlugin(`
      export function postLLMHook(ctx, resp, err) {
        if (!err) return;
        globalThis.__ghTrace.push('saw:' + err.status_code);
        return {
          response: { chat_response: { id: 'rec', object: 'chat.completion', created: 0, model: 'm',
            choices: [{ index: 0, message: { role: 'assistant', content: 'recovered' }, finish_reason: 'stop', logprobs: null }] } },
          error: {},
        };
      }`);
    const { client } = await gateway([{ name: 'recover', path: recover }], {
      providers: { dead: { custom_provider_config: { base_provider_type: 'openai' }, keys: [{ value: 'k' }], network_config: { base_url: `http://127.0.0.1:${port}` } } },
    });
    const res = await client.chat.completions.create({ model: 'dead/gpt-x', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(res.choices[0]?.message.content, 'recovered');
    assert.deepEqual(trace(), ['saw:502']);
  });

  test('invalidation: a post-hook turns a response into an error', async () => {
    const invalidate = writePlugin(`
      export function postLLMHook(ctx, resp, err) {
        if (resp?.chat_response?.choices?.[0]?.message?.content?.includes('forbidden')) {
          return { response: null, error: { status_code: 422, error: { message: 'answer invalidated by policy', type: 'policy_violation', code: 'policy' } } };
        }
      }`);
    const { client } = await gateway([{ name: 'invalidate', path: invalidate }]);
    await assert.rejects(client.chat.completions.create(chat('say forbidden')), (err: unknown) => {
      assert.ok(err instanceof OpenAI.UnprocessableEntityError);
      assert.equal(err.message, '422 answer invalidated by policy');
      assert.equal(err.type, 'policy_violation');
      assert.equal(err.code, 'policy');
      return true;
    });
    const ok = await client.chat.completions.create(chat('harmless'));
    assert.equal(ok.choices[0]?.message.content, 'Echo: harmless');
  });

  test('LLM pre-hooks (and post-hooks) run again for every fallback attempt', async () => {
    const port = await closedPort();
    const rec = writePlugin(`
      export function preLLMHook(ctx, req) { globalThis.__ghTrace.push('pre:' + req.provider + '/' + req.model); }
      export function postLLMHook(ctx, resp, err) { globalThis.__ghTrace.push('post:' + (err ? 'error' : 'ok')); }
      export function httpTransportPostHook() { globalThis.__ghTrace.push('httpPost'); }`);
    const { client } = await gateway([{ name: 'rec', path: rec }], {
      providers: {
        mock: { keys: [{ value: '', models: [] }] },
        dead: { custom_provider_config: { base_provider_type: 'openai' }, keys: [{ value: 'k' }], network_config: { base_url: `http://127.0.0.1:${port}` } },
      },
    });
    const res = await client.chat.completions.create({ model: 'dead/gpt-x', messages: [{ role: 'user', content: 'fall back' }], fallbacks: ['mock/second'] } as never);
    assert.equal(res.choices[0]?.message.content, 'Echo: fall back');
    assert.deepEqual(trace(), ['pre:dead/gpt-x', 'post:error', 'pre:mock/second', 'post:ok', 'httpPost']);
  });

  test('allow_fallbacks: false stops fallbacks; absent lets them run', async () => {
    const upstream = await startOpenAIUpstream();
    try {
      const deny = writePlugin(`
        export function preLLMHook(ctx, req) {
          globalThis.__ghTrace.push('pre:' + req.provider);
          if (req.provider === 'mock') {
            const error = { status_code: 429, error: { message: 'quota exhausted', type: 'rate_limit', code: '429' } };
            if (req.input.at(-1).content === 'final') error.allow_fallbacks = false;
            return { shortCircuit: { error } };
          }
        }`);
      const { client } = await gateway([{ name: 'deny', path: deny }], {
        providers: {
          mock: { keys: [{ value: '', models: [] }] },
          backup: { custom_provider_config: { base_provider_type: 'openai' }, keys: [{ value: 'k' }], network_config: { base_url: upstream.url } },
        },
      });
      const body = (content: string) => ({ model: 'mock/m', messages: [{ role: 'user', content }], fallbacks: ['backup/gpt-4o-mini'] }) as never;
      await assert.rejects(client.chat.completions.create(body('final')), (err: unknown) => err instanceof OpenAI.RateLimitError && /quota exhausted/.test(err.message));
      assert.deepEqual(trace(), ['pre:mock']);
      assert.equal(upstream.requests.length, 0, 'the fallback provider was never called');

      globalThis.__ghTrace = [];
      const res = await client.chat.completions.create(body('may fall back'));
      assert.equal(res.choices[0]?.message.content, 'Echo: may fall back');
      assert.deepEqual(trace(), ['pre:mock', 'pre:backup']);
      assert.equal(upstream.requests.length, 1);
    } finally {
      await upstream.close();
    }
  });

  test('context: values set by one hook are seen by every later hook of every plugin', async () => {
    const first = writePlugin(`
      export const name = 'first';
      export function httpTransportPreHook(ctx) { ctx.setValue('first.http_pre', 'h1'); }
      export function postLLMHook(ctx) { ctx.setValue('first.post', 'saw ' + ctx.value('second.pre')); }
      export function httpTransportPostHook(ctx, req, resp) {
        resp.headers['x-ctx'] = JSON.stringify({ http_pre: ctx.value('first.http_pre'), pre: ctx.value('second.pre'), post: ctx.value('first.post'), second_post: ctx.value('second.http_post') });
      }`);
    const second = writePlugin(`
      export default {
        name: 'second',
        preLLMHook(ctx) { ctx.setValue('second.pre', 'after ' + ctx.value('first.http_pre')); },
        httpTransportPostHook(ctx) { ctx.setValue('second.http_post', 'p2'); },
      };`);
    const { client } = await gateway([{ name: 'first', path: first }, { name: 'second', path: second }]);
    const { response } = await client.chat.completions.create(chat('ctx')).withResponse();
    assert.deepEqual(JSON.parse(response.headers.get('x-ctx') ?? 'null'), { http_pre: 'h1', pre: 'after h1', post: 'saw after h1', second_post: 'p2' });
  });

  test('reserved keys: request_id and gatehouse.* cannot be overwritten by plugins', async () => {
    const thief = writePlugin(`
      export function httpTransportPreHook(ctx) {
        ctx.setValue('gatehouse.seen', ctx.value('request_id'));
        globalThis.__ghTrace.push('writes:' + ctx.setValue('request_id', 'hijacked') + ',' + ctx.setValue('gatehouse.provider', 'evil') + ',' + ctx.setValue('mine', 1));
      }
      export function preLLMHook(ctx) { ctx.setValue('request_id', 'hijacked-again'); }
      export function httpTransportPostHook(ctx, req, resp) {
        resp.headers['x-seen-request-id'] = String(ctx.value('request_id'));
        resp.headers['x-seen-reserved'] = String(ctx.value('gatehouse.provider') ?? 'absent') + ',' + String(ctx.value('gatehouse.seen') ?? 'absent');
        resp.headers['x-seen-mine'] = String(ctx.value('mine'));
      }`);
    const { client } = await gateway([{ name: 'thief', path: thief }]);
    const { response } = await client.chat.completions.create(chat('x'), { headers: { 'x-request-id': 'req-fixed-123' } }).withResponse();
    assert.equal(response.headers.get('x-request-id'), 'req-fixed-123');
    assert.equal(response.headers.get('x-seen-request-id'), 'req-fixed-123');
    assert.equal(response.headers.get('x-seen-reserved'), 'absent,absent');
    assert.equal(response.headers.get('x-seen-mine'), '1');
    assert.deepEqual(trace(), ['writes:false,false,true']);
  });

  test('a transport pre-hook that changes the method or the path gets 409', async () => {
    const path = writePlugin(`export function httpTransportPreHook(ctx, req) { req.path = '/v1/embeddings'; }`);
    const method = writePlugin(`export function httpTransportPreHook(ctx, req) { req.method = 'PUT'; }`);
    const after = writePlugin(`export function preLLMHook() { globalThis.__ghTrace.push('llm hook ran'); }`);
    for (const p of [path, method]) {
      const { client } = await gateway([{ name: 'router', path: p }, { name: 'after', path: after }]);
      await assert.rejects(client.chat.completions.create(chat('x')), (err: unknown) => {
        assert.ok(err instanceof OpenAI.ConflictError, String(err));
        assert.equal(err.code, 'GH_ERR_ROUTE_CHANGED_BY_PLUGIN');
        assert.match(err.message, /plugin "router" changed the request method or path/);
        return true;
      });
    }
    assert.deepEqual(trace(), []);
  });

  test('stream chunk hook: modify a chunk', async () => {
    const upper = writePlugin(`
      export function httpTransportStreamChunkHook(ctx, req, chunk) {
        const d = chunk.choices?.[0]?.delta;
        if (d && typeof d.content === 'string') d.content = d.content.toUpperCase();
        return chunk;
      }`);
    const { client } = await gateway([{ name: 'upper', path: upper }]);
    const text = await collect(await client.chat.completions.create({ ...chat('make me loud'), stream: true }));
    assert.equal(text, 'ECHO: MAKE ME LOUD');
  });

  test('stream chunk hook: drop a chunk (null), including with a new object returned for others', async () => {
    const drop = writePlugin(`
      export function httpTransportStreamChunkHook(ctx, req, chunk) {
        const c = chunk.choices?.[0]?.delta?.content;
        if (typeof c === 'string' && c.includes('secret')) return null;
        return { ...chunk, dropper: true };
      }`);
    const { client } = await gateway([{ name: 'drop', path: drop }]);
    const stream = await client.chat.completions.create({ ...chat('a secret word'), stream: true });
    let text = '';
    let marked = 0;
    let finish: string | null = null;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
      if ((c as unknown as { dropper?: boolean }).dropper) marked++;
    }
    assert.equal(text, 'Echo: a word');
    assert.equal(finish, 'stop');
    assert.equal(marked, 5, 'role chunk, 3 kept words, finish chunk');
  });

  test('stream chunk hook: a PluginRejection (from a bundled .ts plugin) ends the stream with an error event', async () => {
    const stopper = writePlugin(`
      import { PluginRejection } from ${JSON.stringify(GATEWAY_INDEX.replace(/\.ts$/, '.js'))};
      import type { Plugin } from ${JSON.stringify(PLUGIN_MODULE.replace(/\.ts$/, '.js'))};
      const plugin: Plugin = {
        name: 'stopper',
        httpTransportStreamChunkHook(ctx, req, chunk) {
          const c = (chunk as any).choices?.[0]?.delta?.content;
          if (typeof c === 'string' && c.includes('STOP')) {
            throw new PluginRejection({ status_code: 400, error: { message: 'stream stopped by policy', type: 'policy_violation', code: 'stopped' } });
          }
          return chunk;
        },
        httpTransportPostHook(ctx, req, resp) { globalThis.__ghTrace!.push('httpPost:' + resp?.status_code + ':' + resp?.body); },
      };
      export default plugin;`, '.ts');
    const { client, gw } = await gateway([{ name: 'stopper', path: stopper }]);
    const stream = await client.chat.completions.create({ ...chat('one two STOP three'), stream: true });
    let text = '';
    await assert.rejects(
      (async () => { for await (const c of stream) text += c.choices[0]?.delta.content ?? ''; })(),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.APIError, String(err));
        assert.equal(err.message, 'stream stopped by policy');
        assert.equal(err.type, 'policy_violation');
        return true;
      },
    );
    assert.equal(text, 'Echo: one two ');
    await until(() => trace().length > 0);
    assert.deepEqual(trace(), ['httpPost:200:null']);
    // The gateway keeps serving.
    const ok = await client.chat.completions.create(chat('still alive'));
    assert.equal(ok.choices[0]?.message.content, 'Echo: still alive');
    assert.equal(gw.logs.filter((l) => l.msg === 'plugin failure').length, 0, 'a rejection is not a plugin failure');
  });

  test('a PluginRejection thrown by a transport pre-hook answers with its error (plugin imports "gatehouse" at runtime)', async () => {
    const { client, gw } = await gateway([{ name: 'reject', path: join(FIXTURES, 'reject-transport.ts') }]);
    await assert.rejects(client.chat.completions.create(chat('x')), (err: unknown) => {
      assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
      assert.equal(err.message, '401 missing x-team header');
      assert.equal(err.code, 'no_team');
      return true;
    });
    const ok = await client.chat.completions.create(chat('with team'), { headers: { 'X-Team': 'blue' } });
    assert.equal(ok.choices[0]?.message.content, 'Echo: with team');
    assert.equal(gw.logs.filter((l) => l.msg === 'plugin failure').length, 0);
  });

  test('transport post-hook runs after a stream ends, with no bodies, in reverse', async () => {
    const post = (id: string) => writePlugin(`
      export function httpTransportPostHook(ctx, req, resp) {
        globalThis.__ghTrace.push(${JSON.stringify(id)} + ':' + resp.status_code + ':' + resp.body + ':' + resp.headers['content-type'] + ':' + (req.body === null ? 'no req body' : 'req body'));
      }`);
    const { client } = await gateway([{ name: 'p1', path: post('p1') }, { name: 'p2', path: post('p2') }]);
    const text = await collect(await client.chat.completions.create({ ...chat('streamed'), stream: true }));
    assert.equal(text, 'Echo: streamed');
    await until(() => trace().length === 2);
    assert.deepEqual(trace(), ['p2:200:null:text/event-stream:req body', 'p1:200:null:text/event-stream:req body']);
  });

  test('fail_closed: a throwing hook fails the request with 500 naming the plugin and the hook', async () => {
    const thrower = writePlugin(`export function preLLMHook() { throw new Error('kaboom'); }`);
    const { client, gw } = await gateway([{ name: 'thrower', path: thrower }]);
    await assert.rejects(client.chat.completions.create(chat('x')), (err: unknown) => {
      assert.ok(err instanceof OpenAI.InternalServerError, String(err));
      assert.equal(err.status, 500);
      assert.equal(err.code, 'GH_ERR_PLUGIN_FAILED');
      assert.match(err.message, /plugin "thrower" failed in preLLMHook: kaboom/);
      return true;
    });
    assert.equal(gw.gateway.pipeline.failures.counts.get('thrower:preLLMHook'), 1);
    assert.ok(gw.logs.some((l) => l.msg === 'plugin failure' && l.plugin === 'thrower' && l.policy === 'fail_closed'));
  });

  test('fail_open: a throwing hook is skipped, logged and counted; the request succeeds', async () => {
    const thrower = writePlugin(`
      export function httpTransportPreHook() { throw new Error('transport boom'); }
      export function preLLMHook() { throw new Error('llm boom'); }
      export function httpTransportStreamChunkHook() { throw new Error('chunk boom'); }`);
    const { client, gw } = await gateway([{ name: 'flaky', path: thrower, on_error: 'fail_open' }]);
    const res = await client.chat.completions.create(chat('go on'));
    assert.equal(res.choices[0]?.message.content, 'Echo: go on');
    const text = await collect(await client.chat.completions.create({ ...chat('streaming on'), stream: true }));
    assert.equal(text, 'Echo: streaming on');
    const failures = gw.logs.filter((l) => l.msg === 'plugin failure' && l.plugin === 'flaky');
    assert.ok(failures.some((l) => l.hook === 'httpTransportPreHook' && l.policy === 'fail_open' && /transport boom/.test(String(l.err))));
    assert.ok(failures.some((l) => l.hook === 'preLLMHook'));
    assert.ok(failures.some((l) => l.hook === 'httpTransportStreamChunkHook'));
    assert.equal(gw.gateway.pipeline.failures.counts.get('flaky:preLLMHook'), 2);
    // The counts are visible to operators on /health.
    const health = await (await fetch(`${gw.url}/health`)).json();
    const entry = health.plugins.find((p: { name: string }) => p.name === 'flaky');
    assert.equal(entry.on_error, 'fail_open');
    assert.equal(entry.failures.preLLMHook, 2);
    assert.ok(entry.failures.httpTransportStreamChunkHook >= 1);
  });

  test('a hook that never resolves is bounded by limits.timeout_ms', async () => {
    const hang = writePlugin(`export function preLLMHook() { return new Promise(() => {}); }`);
    const { client } = await gateway([{ name: 'hang', path: hang, limits: { timeout_ms: 150 } }]);
    const t0 = Date.now();
    await assert.rejects(client.chat.completions.create(chat('x')), (err: unknown) => {
      assert.ok(err instanceof OpenAI.InternalServerError, String(err));
      assert.match(err.message, /plugin "hang" failed in preLLMHook: .*did not finish within 150 ms/);
      return true;
    });
    assert.ok(Date.now() - t0 < 3000);
  });

  test('v1.3 TransportInterceptor is adapted onto the transport pre-hook, with one deprecation warning', async () => {
    const legacy = writePlugin(`
      export function GetName() { return 'legacy'; }
      export function TransportInterceptor(ctx, url, headers, body) {
        globalThis.__ghTrace.push('legacy:' + url + ':' + body.model);
        headers['x-legacy'] = 'yes';
        body.messages = [{ role: 'user', content: 'rewritten by v1.3 plugin' }];
        return [headers, body];
      }`);
    const seen = writePlugin(`export function preLLMHook(ctx, req) { globalThis.__ghTrace.push('pre:' + req.input[0].content); }`);
    const { client, gw } = await gateway([{ name: 'legacy', path: legacy }, { name: 'seen', path: seen }]);
    const res = await client.chat.completions.create(chat('original'));
    assert.equal(res.choices[0]?.message.content, 'Echo: rewritten by v1.3 plugin');
    await client.chat.completions.create(chat('again'));
    assert.deepEqual(trace(), ['legacy:/v1/chat/completions:mock/mock-model', 'pre:rewritten by v1.3 plugin', 'legacy:/v1/chat/completions:mock/mock-model', 'pre:rewritten by v1.3 plugin']);
    const warnings = gw.logs.filter((l) => /TransportInterceptor/.test(String(l.msg)));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.level, 40);
    assert.equal(warnings[0]?.plugin, 'legacy');
    assert.match(String(warnings[0]?.msg), /#migrating-from-v13/);
  });

  test('a plugin whose init throws stops startup with its name, path and reason', async () => {
    const bad = writePlugin(`export function init(config) { throw new Error('missing api_url in ' + JSON.stringify(config)); }
      export function preLLMHook() {}`);
    const cleaned = writePlugin(`export function preLLMHook() {} export function cleanup() { globalThis.__ghTrace.push('cleanup of loaded plugin'); }`);
    await assert.rejects(
      startTestGateway(mockConfig({ plugins: [{ name: 'ok-first', path: cleaned }, { name: 'broken', path: bad, config: { x: 1 } }] })),
      (err: unknown) => {
        assert.ok(err instanceof Error);
        assert.ok(err.message.includes('plugin "broken"'), err.message);
        assert.ok(err.message.includes(bad), err.message);
        assert.ok(err.message.includes('missing api_url in {"x":1}'), err.message);
        return true;
      },
    );
    assert.deepEqual(trace(), ['cleanup of loaded plugin']);
    await assert.rejects(startTestGateway(mockConfig({ plugins: [{ name: 'nofile', path: join(dir, 'does-not-exist.mjs') }] })), /plugin "nofile" \(.*does-not-exist\.mjs\) failed to load/);
  });

  test('a hook no plugin implements costs nothing: stream chunks are never parsed and pass through byte-identical', async () => {
    const upstream = await startOpenAIUpstream();
    const realParse = JSON.parse;
    let chunkParses = 0;
    JSON.parse = ((text: string, reviver?: never) => {
      // Only this test's chunks count (other streams may still be finishing in this process).
      if (typeof text === 'string' && text.includes('"chat.completion.chunk"') && text.includes('zqxjmarker')) chunkParses++;
      return realParse(text, reviver);
    }) as typeof JSON.parse;
    try {
      const providers = { up: { custom_provider_config: { base_provider_type: 'openai' }, keys: [{ value: 'k' }], network_config: { base_url: upstream.url } } };
      const preOnly = writePlugin(`export function preLLMHook(ctx, req) { req.params.temperature = 0; }`);
      const chunkHook = writePlugin(`export function httpTransportStreamChunkHook(ctx, req, chunk) { return chunk; }`);
      const raw = async (gw: TestGateway): Promise<string> => {
        const res = await fetch(`${gw.baseURL}/chat/completions`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'up/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'zqxjmarker' }] }),
        });
        // Upstream ids and timestamps differ per request; everything else must match byte for byte.
        return (await res.text()).replace(/"id":"[^"]*"/g, '"id":"X"').replace(/"created":\d+/g, '"created":0');
      };
      const plain = await gateway([], { providers });
      const withPre = await gateway([{ name: 'pre-only', path: preOnly }], { providers });
      assert.equal(withPre.gw.gateway.pipeline.hasStreamChunk, false);
      assert.equal(withPre.gw.gateway.pipeline.hasPostLLM, false);
      assert.equal(withPre.gw.gateway.pipeline.needsHttpView, false);
      const before = chunkParses;
      const a = await raw(plain.gw);
      const b = await raw(withPre.gw);
      assert.equal(chunkParses, before, 'no stream chunk was parsed');
      assert.equal(b, a);
      assert.ok(a.includes('"system_fingerprint":"fp_mock"') && a.endsWith('data: [DONE]\n\n'), a);
      assert.equal(upstream.requests[1]?.body.temperature, 0, 'the pre-hook did run');
      // Control: the spy does see parsing once a plugin looks at chunks.
      const looking = await gateway([{ name: 'chunk', path: chunkHook }], { providers });
      assert.equal(looking.gw.gateway.pipeline.hasStreamChunk, true);
      await raw(looking.gw);
      assert.ok(chunkParses > before);
    } finally {
      JSON.parse = realParse;
      await upstream.close();
    }
  });
});
