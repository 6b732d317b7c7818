import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PriceTable, defaultPrices } from '../../packages/gateway/src/pricing/index.js';
import { buildConfig, ConfigError } from '../../packages/gateway/src/config/load.js';

test('the shipped table covers the common providers, every entry a non-negative price', () => {
  const prices = defaultPrices();
  for (const p of ['openai', 'anthropic', 'gemini', 'mistral', 'cohere', 'bedrock', 'vertex']) {
    assert.ok([...prices.keys()].some((k) => k.startsWith(`${p}/`)), `no prices for ${p}`);
  }
  for (const [k, v] of prices) {
    assert.ok(v.input_per_mtok >= 0 && v.output_per_mtok >= 0, k);
    assert.equal(Object.keys(v).sort().join(), 'input_per_mtok,output_per_mtok', k);
  }
});

test('costOf multiplies tokens by the per-million price, in either usage spelling', () => {
  const t = new PriceTable();
  assert.equal(t.costOf('openai', 'gpt-4o', { prompt_tokens: 1_000_000, completion_tokens: 0 }), 2.5);
  assert.equal(t.costOf('openai', 'gpt-4o', { prompt_tokens: 1000, completion_tokens: 500 }), (1000 * 2.5 + 500 * 10) / 1e6);
  assert.equal(t.costOf('anthropic', 'claude-sonnet-4', { input_tokens: 2000, output_tokens: 100 }), (2000 * 3 + 100 * 15) / 1e6);
  assert.equal(t.costOf('openai', 'gpt-4o', undefined), undefined);
});

test('dated snapshots, Bedrock versions and region prefixes, Vertex @versions price like their model', () => {
  const t = new PriceTable();
  assert.deepEqual(t.priceOf('openai', 'gpt-4o-2024-08-06'), t.priceOf('openai', 'gpt-4o'));
  assert.deepEqual(t.priceOf('openai', 'gpt-4o-mini-2024-07-18'), { input_per_mtok: 0.15, output_per_mtok: 0.6 });
  assert.deepEqual(t.priceOf('anthropic', 'claude-3-5-sonnet-20241022'), { input_per_mtok: 3, output_per_mtok: 15 });
  assert.deepEqual(t.priceOf('bedrock', 'us.anthropic.claude-3-5-haiku-20241022-v1:0'), { input_per_mtok: 0.8, output_per_mtok: 4 });
  assert.deepEqual(t.priceOf('vertex', 'claude-sonnet-4@20250514'), { input_per_mtok: 3, output_per_mtok: 15 });
  assert.deepEqual(t.priceOf('gemini', 'models/gemini-2.5-flash'), { input_per_mtok: 0.3, output_per_mtok: 2.5 });
});

test('an unknown model has no price (undefined, not zero)', () => {
  const t = new PriceTable();
  assert.equal(t.priceOf('openai', 'my-finetune'), undefined);
  assert.equal(t.costOf('openai', 'my-finetune', { prompt_tokens: 10, completion_tokens: 10 }), undefined);
  assert.equal(t.priceOf('nowhere', 'gpt-4o'), undefined);
});

test('config.json pricing overrides and extends the table; custom providers fall back to their base kind', () => {
  const cfg = buildConfig({
    providers: {
      openai: { keys: [{ value: 'sk-test' }] },
      corp: { keys: [{ value: 'sk-corp' }], custom_provider_config: { base_provider_type: 'openai' } },
    },
    pricing: { 'openai/gpt-4o': { input_per_mtok: 1, output_per_mtok: 2 }, 'corp/house-model': { input_per_mtok: 0.5, output_per_mtok: 0.5 } },
  });
  assert.equal(cfg.pricing.costOf('openai', 'gpt-4o', { prompt_tokens: 1e6, completion_tokens: 1e6 }), 3);
  assert.equal(cfg.pricing.costOf('corp', 'house-model', { prompt_tokens: 2e6, completion_tokens: 0 }), 1);
  assert.equal(cfg.pricing.costOf('corp', 'gpt-4o-mini', { prompt_tokens: 1e6, completion_tokens: 0 }), 0.15);
  // The override applies through the custom provider's fallback too.
  assert.equal(cfg.pricing.costOf('corp', 'gpt-4o', { prompt_tokens: 1e6, completion_tokens: 0 }), 1);
});

test('a malformed pricing entry is a config error naming the path', () => {
  assert.throws(() => buildConfig({ pricing: { 'openai/gpt-4o': { input_per_mtok: -1, output_per_mtok: 1 } } }), (e: unknown) => e instanceof ConfigError && /pricing/.test((e as Error).message));
  assert.throws(() => buildConfig({ pricing: { 'gpt-4o': { input_per_mtok: 1, output_per_mtok: 1 } } }), (e: unknown) => e instanceof ConfigError && /pricing/.test((e as Error).message));
});
