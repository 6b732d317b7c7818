/**
 * The request log store end to end, against SQLite (a file in a temp dir) and the real PostgreSQL
 * server of the test run (GATEHOUSE_TEST_PG_URL, a table of this file's own): rows written off the
 * request path with the plugin trace, GET /api/logs filters and cursor pages, GET /api/logs/{id},
 * admin auth, retention, the bounded queue dropping and counting rows, and no secret in the store.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';

import { postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startOpenAIUpstream, type MockUpstream } from '../mocks/openai-upstream.js';
import { createLogger } from '../../packages/gateway/src/index.js';
import { createRequestLog } from '../../packages/gateway/src/observability/request-log.js';
import { openSqliteLogStore } from '../../packages/gateway/src/stores/log-store-sqlite.js';
import type { LogRecord, LogStore } from '../../packages/gateway/src/stores/log-store.js';
import type { RequestSummary } from '../../packages/gateway/src/core/observer.js';

const dir = mkdtempSync(join(tmpdir(), 'gh-logstore-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PROVIDER_KEY = 'sk-logstore-provider-secret-0123456789';
const ADMIN_TOKEN = 'admin-logstore-token-0123456789abcdef';
const CLIENT_KEY = 'sk-bf-logstore-virtual-key-9876543210';
const SECRETS = [PROVIDER_KEY, ADMIN_TOKEN, CLIENT_KEY];

const nativeFile = join(dir, 'guard.mjs');
writeFileSync(nativeFile, `export default {
  name: 'guard',
  preLLMHook(ctx, req) {
    const text = JSON.stringify(req.params?.messages ?? req.messages ?? req);
    if (text.includes('block')) return { shortCircuit: { response: { chat_response: { id: 'sc', object: 'chat.completion', created: 0, model: 'x', choices: [{ index: 0, message: { role: 'assistant', content: 'blocked' }, finish_reason: 'stop' }] } } } };
  },
};
`);

function gatewayConfig(upstream: MockUpstream, logsStore: Record<string, unknown>): Record<string, unknown> {
  return {
    providers: { openai: { keys: [{ value: PROVIDER_KEY, models: ['gpt-4o'] }], network_config: { base_url: upstream.url } } },
    admin: { token: ADMIN_TOKEN },
    plugins: [{ name: 'guard', path: nativeFile }],
    logs_store: logsStore,
  };
}

async function api(gw: TestGateway, path: string, token: string | null = ADMIN_TOKEN): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`${gw.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, text };
}

/** Sends 4 good requests, 1 short-circuited, 1 to an unknown provider; checks what the store and the API say. */
async function exercise(gw: TestGateway): Promise<string> {
  const auth = { authorization: `Bearer ${CLIENT_KEY}`, 'x-api-key': CLIENT_KEY, 'x-bf-vk': CLIENT_KEY };
  const chat = (content: string, model = 'openai/gpt-4o') => ({ model, messages: [{ role: 'user', content }] });
  for (let i = 0; i < 4; i++) assert.equal((await postJson(`${gw.baseURL}/chat/completions`, chat(`hello ${i}`), auth)).status, 200);
  const sc = await postJson(`${gw.baseURL}/chat/completions`, chat('block me'), { ...auth, 'x-request-id': 'req-blocked-1' });
  assert.equal(sc.json.choices[0].message.content, 'blocked');
  const bad = await postJson(`${gw.baseURL}/chat/completions`, chat('hi', 'nowhere/model'), auth);
  assert.ok(bad.status >= 400, `unknown provider answered ${bad.status}`);
  await gw.requestLog!.flush();

  assert.equal((await api(gw, '/api/logs', null)).status, 401, 'admin auth applies');
  assert.equal((await api(gw, '/api/logs', 'wrong-token-0123456789abcdef')).status, 401);

  const all = await api(gw, '/api/logs');
  assert.equal(all.status, 200, all.text);
  assert.equal(all.json.logs.length, 6);
  assert.equal(all.json.next_cursor, null);
  assert.equal(all.json.store.written, 6);
  assert.equal(all.json.store.dropped, 0);
  for (let i = 1; i < all.json.logs.length; i++) assert.ok(all.json.logs[i - 1].started_at >= all.json.logs[i].started_at, 'newest first');
  const ok = all.json.logs.filter((r: LogRecord) => r.status === 200 && r.provider === 'openai');
  assert.equal(ok.length, 5);
  const served = ok.filter((r: LogRecord) => r.input_tokens !== null);
  assert.equal(served.length, 4, 'provider answers carry usage');
  for (const r of served) {
    assert.equal(r.model, 'gpt-4o');
    assert.equal(r.route, '/v1/chat/completions');
    assert.ok(r.cost_usd! > 0, 'cost from the price table');
    assert.ok(r.total_ms > 0 && r.upstream_ms > 0);
    assert.deepEqual(r.hooks.map((h: { plugin: string; hook: string; outcome: string }) => [h.plugin, h.hook, h.outcome]), [['guard', 'preLLMHook', 'ok']]);
  }

  const blocked = await api(gw, '/api/logs?plugin=guard&outcome=short_circuit');
  assert.equal(blocked.json.logs.length, 1);
  assert.equal(blocked.json.logs[0].request_id, 'req-blocked-1');
  assert.equal((await api(gw, '/api/logs?plugin=other')).json.logs.length, 0);
  assert.equal((await api(gw, '/api/logs?outcome=ok')).json.logs.length, 4);
  assert.equal((await api(gw, '/api/logs?provider=openai&model=gpt-4o&status=200')).json.logs.length, 5);
  const failed = all.json.logs.find((r: LogRecord) => r.status >= 400);
  assert.ok(failed.error_code, 'error code stored');
  assert.equal((await api(gw, `/api/logs?status=${failed.status}`)).json.logs.length, 1);
  const future = Date.now() + 60_000;
  assert.equal((await api(gw, `/api/logs?from=${future}`)).json.logs.length, 0);
  assert.equal((await api(gw, `/api/logs?to=${new Date(future).toISOString()}`)).json.logs.length, 6);

  // Cursor pages of 4 then 2 then none: every row exactly once.
  const p1 = await api(gw, '/api/logs?limit=4');
  assert.equal(p1.json.logs.length, 4);
  assert.ok(p1.json.next_cursor);
  const p2 = await api(gw, `/api/logs?limit=4&cursor=${p1.json.next_cursor}`);
  assert.equal(p2.json.logs.length, 2);
  assert.equal(p2.json.next_cursor, null);
  const ids = [...p1.json.logs, ...p2.json.logs].map((r: { seq: number }) => r.seq);
  assert.deepEqual(ids, all.json.logs.map((r: { seq: number }) => r.seq));

  const one = await api(gw, '/api/logs/req-blocked-1');
  assert.equal(one.status, 200);
  assert.equal(one.json.hooks[0].outcome, 'short_circuit');
  assert.equal(one.json.hooks[0].plugin, 'guard');
  assert.equal((await api(gw, '/api/logs/no-such-request')).status, 404);
  assert.equal((await api(gw, '/api/logs?limit=0')).status, 400);
  assert.equal((await api(gw, '/api/logs?cursor=zzz')).status, 400);
  assert.equal((await api(gw, '/api/logs?outcome=nope')).status, 400);
  assert.equal((await api(gw, '/api/logs?colour=red')).status, 400);

  const everything = all.text + p1.text + one.text;
  for (const s of SECRETS) assert.ok(!everything.includes(s), `secret ${s.slice(0, 10)}... in the API answer`);
  return everything;
}

test('SQLite log store: created on first start, rows with plugin traces, filters, cursor pages, no secret in the file', async () => {
  const upstream = await startOpenAIUpstream();
  const db = join(dir, 'sub', 'logs.db');
  const gw = await startTestGateway(gatewayConfig(upstream, { enabled: true, type: 'sqlite', config: { path: db } }));
  try {
    assert.equal(gw.requestLog?.store.kind, 'sqlite');
    await exercise(gw);
  } finally {
    await gw.close(500);
    await upstream.close();
  }
  // Every byte SQLite wrote (main file, WAL, shm) is free of secrets.
  for (const f of readdirSync(join(dir, 'sub'))) {
    const bytes = readFileSync(join(dir, 'sub', f)).toString('latin1');
    for (const s of SECRETS) assert.ok(!bytes.includes(s), `secret ${s.slice(0, 10)}... in ${f}`);
  }
  const store = openSqliteLogStore(db);
  try {
    assert.equal(await store.count(), 6, 'rows survive the restart');
  } finally {
    await store.close();
  }
});

test('PostgreSQL log store: the same behaviour against a real server, own table, no secret in any row', async () => {
  const url = process.env.GATEHOUSE_TEST_PG_URL;
  assert.ok(url, 'GATEHOUSE_TEST_PG_URL is not set: run the tests with scripts/run-tests.mjs (it starts PostgreSQL)');
  const schema = `logs_${randomBytes(4).toString('hex')}`;
  const table = `${schema}.requests`;
  const upstream = await startOpenAIUpstream();
  const gw = await startTestGateway(gatewayConfig(upstream, { enabled: true, type: 'postgres', config: { url, table } }));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    assert.equal(gw.requestLog?.store.kind, 'postgres');
    await exercise(gw);
    const dump = await client.query(`SELECT row_to_json(t)::text AS j FROM ${table} t`);
    assert.equal(dump.rows.length, 6);
    const text = dump.rows.map((r) => r.j).join('\n');
    for (const s of SECRETS) assert.ok(!text.includes(s), `secret ${s.slice(0, 10)}... in a row`);
  } finally {
    await gw.close(500);
    await upstream.close();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await client.end();
  }
});

function summary(i: number, startedAtMs = Date.now()): RequestSummary {
  return {
    requestId: `r${i}`, method: 'POST', route: '/v1/chat/completions', front: 'openai', provider: 'mock', model: 'm', status: 200,
    stream: false, startedAtMs, totalMs: 1, upstreamMs: 0.5, overheadMs: 0.5, ttftMs: undefined, inputTokens: 1, outputTokens: 1,
    costUsd: undefined, errorCode: undefined, virtualKey: undefined, hooks: [],
  };
}

/** A real SQLite store whose writes wait until `release()` (a disk slower than the traffic). */
function slowStore(file: string): LogStore & { release(): void } {
  const inner = openSqliteLogStore(file);
  let open!: () => void;
  const gate = new Promise<void>((r) => { open = r; });
  return { ...inner, kind: inner.kind, async insert(rows) { await gate; return inner.insert(rows); }, release: () => open() };
}

test('a full queue drops rows and counts them; requests never wait; what was queued is written', async () => {
  const store = slowStore(join(dir, 'slow.db'));
  const lines: string[] = [];
  const log = createLogger({ level: 'warn', destination: { write: (l: string) => { lines.push(l); return true; } } as never });
  const rl = createRequestLog(store, log, { maxQueue: 10, batchRows: 4, flushMs: 5, pruneEveryMs: 60_000 });
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) rl.requestFinished(summary(i));
  assert.ok(performance.now() - t0 < 50, 'recording is synchronous and cheap');
  // The first 4 left for the (blocked) store at once; 10 more fit in the queue; the rest are dropped.
  const st = rl.stats();
  assert.equal(st.queued, 10);
  assert.equal(st.dropped, 86);
  store.release();
  await rl.flush();
  assert.equal(rl.stats().written, 14);
  assert.equal(await store.count(), 14);
  assert.ok(lines.some((l) => l.includes('queue was full') && l.includes('"dropped":86')), lines.join(''));
  await rl.close();
});

test('retention by days and by row count', async () => {
  const store = openSqliteLogStore(join(dir, 'retention.db'));
  const old = Date.now() - 3 * 86_400_000;
  const rows = [];
  for (let i = 0; i < 5; i++) rows.push(summary(i, old));
  for (let i = 5; i < 15; i++) rows.push(summary(i));
  const rl = createRequestLog(store, createLogger({ level: 'silent' }), { maxQueue: 100, batchRows: 100, flushMs: 5, pruneEveryMs: 60_000 });
  for (const s of rows) rl.requestFinished(s);
  await rl.flush();
  assert.equal(await store.count(), 15);
  assert.equal(await store.prune({ before: Date.now() - 2 * 86_400_000 }), 5);
  assert.equal(await store.count(), 10);
  assert.equal(await store.prune({ maxRows: 4 }), 6);
  const left = await store.list({ limit: 10 });
  assert.deepEqual(left.rows.map((r) => r.request_id).sort(), ['r11', 'r12', 'r13', 'r14']);
  await rl.close();
});

test('PostgreSQL retention by days and by row count', async () => {
  const url = process.env.GATEHOUSE_TEST_PG_URL;
  assert.ok(url, 'GATEHOUSE_TEST_PG_URL is not set: run the tests with scripts/run-tests.mjs (it starts PostgreSQL)');
  const { openPgLogStore } = await import('../../packages/gateway/src/stores/log-store-pg.js');
  const table = `logs_ret_${randomBytes(4).toString('hex')}`;
  const store = await openPgLogStore(url, table);
  try {
    const old = Date.now() - 3 * 86_400_000;
    const rl = createRequestLog(store, createLogger({ level: 'silent' }), { maxQueue: 100, batchRows: 100, flushMs: 5, pruneEveryMs: 60_000 });
    for (let i = 0; i < 5; i++) rl.requestFinished(summary(i, old));
    for (let i = 5; i < 15; i++) rl.requestFinished(summary(i));
    await rl.flush();
    assert.equal(await store.count(), 15);
    assert.equal(await store.prune({ before: Date.now() - 2 * 86_400_000 }), 5);
    assert.equal(await store.prune({ maxRows: 4 }), 6);
    const left = await store.list({ limit: 10 });
    assert.deepEqual(left.rows.map((r) => r.request_id).sort(), ['r11', 'r12', 'r13', 'r14']);
  } finally {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`DROP TABLE IF EXISTS ${table}`);
    await c.end();
    await store.close();
  }
});

test('logs_store off (the default): no store, no /api/logs', async () => {
  const gw = await startTestGateway({ providers: { mock: { keys: [{ value: '', models: [] }] } } });
  try {
    assert.equal(gw.requestLog, undefined);
    assert.equal((await api(gw, '/api/logs', null)).status, 404);
  } finally {
    await gw.close(500);
  }
});
