/**
 * Bifrost config.json files load (issue 12, items 9-12): built-in plugin entries and keys Gatehouse
 * ignores start with a warning, a .so plugin gets a clear message and its on_error decides,
 * unknown keys are warned with the closest valid name, and `env.NAME` works in base_url.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { buildConfig } from '../../packages/gateway/src/index.js';
import { closest } from '../../packages/gateway/src/config/compat.js';
import { mockConfig, postJson, startTestGateway } from '../helpers/gateway.js';

const dir = mkdtempSync(join(tmpdir(), 'gh-bifrost-config-'));

describe('Bifrost config compatibility', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('built-in plugin entries (no path) start with a warning naming what does the job in Gatehouse', async () => {
    const builtins = ['telemetry', 'otel', 'logging', 'governance', 'semantic_cache', 'maxim'].map((name) => ({ enabled: true, name, config: {} }));
    const cfg = buildConfig(mockConfig({ plugins: [...builtins, { enabled: true, name: 'something-else' }] }));
    assert.equal(cfg.plugins.length, 0);
    const w = cfg.warnings.join('\n');
    assert.match(w, /plugins\[0\] \("telemetry"\) is one of Bifrost's built-in plugins and is skipped: .*GET \/metrics/);
    assert.match(w, /\("otel"\).*"otel" key/);
    assert.match(w, /\("logging"\).*log store.*\/api\/logs/);
    assert.match(w, /\("governance"\).*governance/);
    assert.match(w, /\("semantic_cache"\).*no semantic cache/);
    assert.match(w, /\("maxim"\).*Maxim/);
    assert.match(w, /\("something-else"\) has no "path" and is not a Bifrost built-in plugin/);
    const gw = await startTestGateway(mockConfig({ plugins: builtins }));
    try {
      assert.equal((await postJson(`${gw.baseURL}/chat/completions`, { model: 'mock/m', messages: [{ role: 'user', content: 'hi' }] })).status, 200);
      assert.ok(gw.logs.some((l) => l.level === 'warn' || l.level === 40), 'warnings are logged at start-up');
    } finally {
      await gw.close(500);
    }
  });

  test('a .so plugin: a clear message; fail_open starts without it (shown by /health), the default refuses', async () => {
    const so = join(dir, 'plugin.so');
    // If anything tried to import this as a module, it would run.
    writeFileSync(so, 'globalThis.__gatehouseSoImported = true;');
    await assert.rejects(startTestGateway(mockConfig({ plugins: [{ name: 'go-plugin', path: so }] })),
      /plugin "go-plugin" .*native Go plugins \(\.so\) cannot run in Gatehouse; build it as a \.wasm plugin: see docs\/writing-wasm-plugins\.md/);
    const gw = await startTestGateway(mockConfig({ plugins: [{ name: 'go-plugin', path: so, on_error: 'fail_open' }] }));
    try {
      const health = await (await fetch(`${gw.url}/health`)).json() as { plugins: Array<Record<string, unknown>> };
      assert.deepEqual(health.plugins.map((p) => [p.name, p.loaded, p.healthy]), [['go-plugin', false, false]]);
      assert.match(String(health.plugins[0]!.error), /native Go plugins/);
      assert.equal((await postJson(`${gw.baseURL}/chat/completions`, { model: 'mock/m', messages: [{ role: 'user', content: 'hi' }] })).status, 200);
      assert.ok(gw.logs.some((l) => String(l.msg).includes('starting without it')));
    } finally {
      await gw.close(500);
    }
    assert.equal((globalThis as Record<string, unknown>).__gatehouseSoImported, undefined, 'the .so was never imported');
  });

  test('ignored keys are not required: encryption_key with an unset env var, config_store, logs_store', () => {
    const env = { ...process.env };
    delete env.GH_TEST_UNSET_KEY;
    const cfg = buildConfig(mockConfig({
      encryption_key: 'env.GH_TEST_UNSET_KEY',
      config_store: { enabled: true, type: 'postgres', config: { password: 'env.GH_TEST_UNSET_KEY' } },
      logs_store: { enabled: true, type: 'sqlite', config: { path: './logs.db' } },
    }), { env });
    const w = cfg.warnings.join('\n');
    assert.match(w, /ignored .*encryption_key/);
    // Unset env refs under keys Gatehouse reads still refuse, naming the variable.
    assert.throws(() => buildConfig({ providers: { openai: { keys: [{ value: 'env.GH_TEST_UNSET_KEY' }] } } }, { env }), /GH_TEST_UNSET_KEY is not set/);
  });

  test('unknown keys are accepted with a warning naming the closest valid key', () => {
    const cfg = buildConfig({
      provders: {},
      providers: {
        mock: { keys: [{ value: '', modles: [] }], network_config: { base_ulr: 'http://127.0.0.1:1', max_retry: 2 } },
      },
      client: { max_request_body_size: 10, initial_pool_size: 300 },
      plugins: [{ name: 'x', enabled: false, path: './x.mjs', on_eror: 'fail_open' }],
    });
    const w = cfg.warnings.join('\n');
    assert.match(w, /unknown config key provders .*did you mean "providers"\?/);
    assert.match(w, /unknown config key providers\.mock\.network_config\.base_ulr .*did you mean "base_url"\?/);
    assert.match(w, /unknown config key providers\.mock\.network_config\.max_retry .*did you mean "max_retries"\?/);
    assert.match(w, /unknown config key providers\.mock\.keys\[0\]\.modles .*did you mean "models"\?/);
    assert.match(w, /unknown config key client\.max_request_body_size .*did you mean "max_request_body_size_mb"\?/);
    assert.match(w, /unknown config key plugins\[0\]\.on_eror .*did you mean "on_error"\?/);
    assert.doesNotMatch(w, /initial_pool_size/, "a Bifrost key is not warned about");
    assert.equal(closest('zzzzzz', ['providers', 'client']), undefined, 'nothing near: no suggestion');
  });

  test('env.NAME works in base_url', () => {
    const cfg = buildConfig({
      providers: { up: { custom_provider_config: { base_provider_type: 'openai' }, keys: [{ value: 'k' }], network_config: { base_url: 'env.GH_TEST_BASE_URL' } } },
    }, { env: { GH_TEST_BASE_URL: 'http://127.0.0.1:9999/v1' } });
    assert.equal(cfg.warnings.length, 0, cfg.warnings.join('\n'));
    const p = cfg.providers.get('up') as unknown as { network: { base_url?: string }; baseUrl?: string };
    assert.match(JSON.stringify(p, (_k, v) => (typeof v === 'bigint' ? String(v) : v)), /127\.0\.0\.1:9999/);
  });
});
