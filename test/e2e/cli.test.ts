import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { runCli, startCli, writeConfig } from '../helpers/cli.js';

test('a bad config refuses to start and names the JSON path and what was expected', async () => {
  const file = writeConfig({ providers: { openai: { keys: [{ value: 'sk', weight: 'heavy' }] } } });
  const r = await runCli(['serve', '-c', file, '--port', '0']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /refusing to start/);
  assert.match(r.stderr, /providers\.openai\.keys\[0\]\.weight/);
  assert.match(r.stderr, /expected number/i);
});

test('an unknown provider and a missing env variable are named', async () => {
  const unknown = await runCli(['serve', '-c', writeConfig({ providers: { nosuch: { keys: [{ value: 'x' }] } } }), '--port', '0']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /providers\.nosuch: unknown provider "nosuch"; expected one of .*openai/);
  const env = await runCli(['serve', '-c', writeConfig({ providers: { openai: { keys: [{ value: 'env.GH_TEST_MISSING_KEY' }] } } }), '--port', '0']);
  assert.equal(env.code, 1);
  assert.match(env.stderr, /providers\.openai\.keys\[0\]\.value: environment variable GH_TEST_MISSING_KEY is not set/);
});

test('a config that is not JSON, and a missing file, are clear errors', async () => {
  const bad = await runCli(['serve', '-c', writeConfig('{ "providers": '), '--port', '0']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /is not valid JSON/);
  const missing = await runCli(['serve', '-c', '/nonexistent/gh.json']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read config file/);
});

test('serve prints URL, providers, models and plugins; GATEHOUSE_CONFIG and PORT are read', async () => {
  const file = writeConfig({ providers: { mock: { keys: [{ value: '', models: ['mock-model'] }] } } });
  const { child, url, output } = await startCli([], { GATEHOUSE_CONFIG: file, PORT: '0' });
  try {
    await new Promise((r) => setTimeout(r, 50));
    assert.match(output(), /mock \(mock, 1 key\) models: mock-model/);
    assert.match(output(), /plugins: \(none\)/);
    const res = await fetch(`${url}/v1/models`);
    assert.deepEqual((await res.json()).data.map((m: { id: string }) => m.id), ['mock/mock-model']);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

test('SIGTERM lets an in-flight stream finish, refuses new requests, and exits 0', async () => {
  const file = writeConfig({ providers: { mock: { keys: [{ value: '' }], meta_config: { chunk_delay_ms: 60 } } } });
  const { child, url } = await startCli(['-c', file, '--port', '0']);
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock/m', stream: true, messages: [{ role: 'user', content: 'a b c d e f' }] }),
  });
  assert.equal(res.status, 200);
  const exit = once(child, 'exit');
  child.kill('SIGTERM');
  const text = await res.text();
  assert.match(text, /data: \[DONE\]/);
  assert.match(text, /"content":"f"/);
  const [code] = await exit;
  assert.equal(code, 0);
});

test('--workers 2: two processes share the port; SIGTERM stops them all with exit 0', async () => {
  const file = writeConfig({ providers: { mock: { keys: [{ value: '' }] } } });
  const { child, url, output } = await startCli(['-c', file, '--port', '0', '--workers', '2']);
  try {
    assert.match(output(), /workers: 2 processes/);
    const pids = new Set<number>();
    for (let i = 0; i < 40 && pids.size < 2; i++) {
      const res = await fetch(`${url}/health`, { headers: { connection: 'close' } });
      pids.add((await res.json()).pid);
    }
    assert.ok(pids.size >= 1);
    assert.ok(![...pids].includes(child.pid as number), 'the primary does not serve requests');
  } finally {
    const exit = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exit;
    assert.equal(code, 0);
  }
});

test('--workers: a worker that cannot start stops the whole gateway with its reason', async () => {
  const file = writeConfig({ providers: { mock: { keys: [{ value: '' }] } }, plugins: [{ name: 'ghost', enabled: true, path: './does-not-exist.mjs' }] });
  const r = await runCli(['serve', '-c', file, '--port', '0', '--workers', '2']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /plugin "ghost" \(\.\/does-not-exist\.mjs\) failed to load/);
});
