/**
 * Observability end to end: GET /metrics scraped and parsed with a Prometheus text parser, counts
 * checked against the requests sent (per-plugin outcomes for a WASM trap, a native timeout and a
 * short-circuit), the access log line per request, and secrets (provider key, admin token, client
 * credentials) absent from every log line and from /metrics.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
// @ts-expect-error no types shipped
import parsePrometheus from 'parse-prometheus-text-format';

import { mockConfig, postJson, startTestGateway } from '../helpers/gateway.js';
import { startOpenAIUpstream } from '../mocks/openai-upstream.js';
import { wat } from '../unit/wasm/helpers.js';
import { bumpMalloc } from '../helpers/wat.js';

const dir = mkdtempSync(join(tmpdir(), 'gh-obs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** http_pre_hook traps when its input contains a '~'. */
const TILDE_TRAP = `(module
  (memory (export "memory") 1)
  ${bumpMalloc(1024)}
  (func (export "http_pre_hook") (param $p i32) (param $n i32) (result i64) (local $i i32)
    (global.set $bump (i32.const 1024))
    (block $done (loop $scan
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (if (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 126)) (then unreachable))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $scan)))
    (i64.const 0)))`;

const trapFile = join(dir, 'trapper.wasm');
writeFileSync(trapFile, wat(TILDE_TRAP));
const nativeFile = join(dir, 'native.mjs');
writeFileSync(nativeFile, `export default {
  name: 'native',
  preLLMHook(ctx, req) {
    const text = JSON.stringify(req.params?.messages ?? req.messages ?? req);
    if (text.includes('slow')) return new Promise(() => {});
    if (text.includes('block')) return { shortCircuit: { response: { chat_response: { id: 'sc', object: 'chat.completion', created: 0, model: 'x', choices: [{ index: 0, message: { role: 'assistant', content: 'blocked' }, finish_reason: 'stop' }] } } } };
  },
};
`);

interface Family { name: string; type: string; metrics: Array<{ labels?: Record<string, string>; value?: string; count?: string; buckets?: Record<string, string> }> }

async function scrape(url: string): Promise<Map<string, Family>> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const families = parsePrometheus(await res.text()) as Family[];
  return new Map(families.map((f) => [f.name, f]));
}

function value(fams: Map<string, Family>, name: string, labels: Record<string, string>): number {
  const f = fams.get(name);
  if (!f) return 0;
  let sum = 0;
  for (const m of f.metrics) {
    if (Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)) sum += Number(m.value ?? m.count ?? 0);
  }
  return sum;
}

const PROVIDER_KEY = 'sk-obs-provider-secret-0123456789';
const ADMIN_TOKEN = 'admin-obs-token-0123456789abcdef';
const CLIENT_KEY = 'sk-bf-client-virtual-key-9876543210';

test('/metrics counts requests, tokens, cost and per-plugin outcomes (trap, timeout, short-circuit); the access log has one line per request; no secret anywhere', async () => {
  const upstream = await startOpenAIUpstream();
  const gw = await startTestGateway({
    providers: {
      openai: { keys: [{ value: PROVIDER_KEY, models: ['gpt-4o'] }], network_config: { base_url: upstream.url } },
      ...(mockConfig().providers as Record<string, unknown>),
    },
    admin: { token: ADMIN_TOKEN },
    plugins: [
      { name: 'trapper', path: trapFile, on_error: 'fail_open' },
      { name: 'native', path: nativeFile, on_error: 'fail_open', limits: { timeout_ms: 150 } },
    ],
  });
  try {
    const auth = { authorization: `Bearer ${CLIENT_KEY}`, 'x-api-key': CLIENT_KEY, 'x-bf-vk': CLIENT_KEY };
    const chat = (content: string, model = 'openai/gpt-4o') => ({ model, messages: [{ role: 'user', content }] });
    for (let i = 0; i < 3; i++) assert.equal((await postJson(`${gw.baseURL}/chat/completions`, chat('hello'), auth)).status, 200);
    assert.equal((await postJson(`${gw.baseURL}/chat/completions`, chat('trap'), { ...auth, 'x-trap': '~' })).status, 200);
    assert.equal((await postJson(`${gw.baseURL}/chat/completions`, chat('be slow'), auth)).status, 200);
    const sc = await postJson(`${gw.baseURL}/chat/completions`, chat('block me'), auth);
    assert.equal(sc.status, 200);
    assert.equal(sc.json.choices[0].message.content, 'blocked');
    // A client-chosen model nobody configured: its own label must not appear.
    await postJson(`${gw.baseURL}/chat/completions`, chat('hi', 'mock/client-invented-model-xyz'), auth);
    const admin = await fetch(`${gw.url}/api/openapi.json`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    await admin.arrayBuffer();

    const fams = await scrape(gw.url);
    assert.equal(value(fams, 'gatehouse_requests_total', { provider: 'openai', model: 'gpt-4o', status: '200' }), 6);
    assert.equal(value(fams, 'gatehouse_requests_total', { provider: 'mock', model: 'other' }), 1);
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    assert.doesNotMatch(text, /client-invented-model-xyz/);
    assert.equal(value(fams, 'gatehouse_requests_in_flight', {}), 0);
    // parse-prometheus-text-format drops histogram labels: histogram counts come from prom-client's registry.
    const histCount = async (name: string, labels: Record<string, string>): Promise<number> => {
      const m = await gw.metrics!.registry.getSingleMetric(name)!.get();
      return m.values.filter((v) => (v as { metricName?: string }).metricName === `${name}_count` && Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x)).reduce((a, v) => a + v.value, 0);
    };
    assert.ok(fams.get('gatehouse_request_duration_seconds')?.type === 'HISTOGRAM');
    assert.equal(await histCount('gatehouse_request_duration_seconds', { provider: 'openai', model: 'gpt-4o', route: '/v1/chat/completions' }), 6);
    assert.ok(value(fams, 'gatehouse_tokens_total', { provider: 'openai', direction: 'input' }) > 0, 'input tokens counted');
    assert.ok(value(fams, 'gatehouse_cost_usd_total', { provider: 'openai', model: 'gpt-4o' }) > 0, 'cost counted');

    const hook = (plugin: string, h: string, outcome: string) => value(fams, 'gatehouse_plugin_hook_calls_total', { plugin, hook: h, outcome });
    assert.equal(hook('trapper', 'httpTransportPreHook', 'trap'), 1);
    assert.equal(hook('trapper', 'httpTransportPreHook', 'ok'), 6);
    assert.equal(hook('native', 'preLLMHook', 'timeout'), 1);
    assert.equal(hook('native', 'preLLMHook', 'short_circuit'), 1);
    assert.equal(hook('native', 'preLLMHook', 'ok'), 5);
    assert.equal(await histCount('gatehouse_plugin_hook_duration_seconds', { plugin: 'native', hook: 'preLLMHook' }), 7);
    assert.ok(fams.has('gatehouse_process_resident_memory_bytes'), 'process metrics');

    // One access-log line per inference request, with what an operator greps for.
    const access = gw.logs.filter((l) => l.msg === 'request');
    assert.equal(access.length, 7);
    for (const l of access) {
      assert.equal(l.level, 30);
      for (const k of ['request_id', 'method', 'route', 'status', 'provider', 'model', 'latency_ms']) assert.ok(l[k] !== undefined, `access log has ${k}`);
    }
    // The short-circuit answer carries no usage, so it has no cost; the five provider answers do.
    assert.equal(access.filter((l) => l.model === 'gpt-4o' && typeof l.cost_usd === 'number').length, 5);

    // Secrets: nowhere in logs or metrics.
    const all = gw.logs.map((l) => JSON.stringify(l)).join('\n') + text;
    for (const s of [PROVIDER_KEY, ADMIN_TOKEN, CLIENT_KEY]) assert.ok(!all.includes(s), `secret ${s.slice(0, 8)}... leaked`);
  } finally {
    await gw.close(500);
    await upstream.close();
  }
});

test('metrics.enabled: false serves no /metrics', async () => {
  const gw = await startTestGateway(mockConfig({ metrics: { enabled: false } }));
  try {
    const res = await fetch(`${gw.url}/metrics`);
    await res.arrayBuffer();
    assert.equal(res.status, 404);
    assert.equal(gw.metrics, undefined);
  } finally {
    await gw.close(500);
  }
});

test('the logger redacts credential headers and key values logged by mistake', async () => {
  const { createLogger } = await import('../../packages/gateway/src/observability/log.js');
  const { Writable } = await import('node:stream');
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }) });
  log.info({ headers: { authorization: `Bearer ${CLIENT_KEY}`, 'x-api-key': CLIENT_KEY, 'api-key': CLIENT_KEY, 'x-goog-api-key': CLIENT_KEY, 'x-bf-vk': CLIENT_KEY } }, 'h');
  log.info({ req: { headers: { Authorization: CLIENT_KEY } }, key: { value: PROVIDER_KEY }, keys: [{ value: PROVIDER_KEY }] }, 'k');
  log.info({ admin_token: ADMIN_TOKEN }, 't');
  const out = lines.join('');
  for (const s of [PROVIDER_KEY, ADMIN_TOKEN, CLIENT_KEY]) assert.ok(!out.includes(s), out);
  assert.match(out, /\[redacted\]/);
});
