import { defaultPrices, type Price } from './prices.js';

export type { Price };

/** Token counts in either wire spelling (OpenAI's prompt/completion or Anthropic's input/output). */
export interface TokenUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  input_tokens?: number;
  output_tokens?: number;
}

// Dated snapshots, Vertex `@` versions, Bedrock `-v1:0` versions, cross-region inference prefixes
// and `models/` prefixes all price like the model they name.
const SUFFIXES = [/@\d{8}$/, /-\d{4}-\d{2}-\d{2}$/, /-v\d+:\d+$/, /-\d{8}$/, /-latest$/, /-preview$/];
const PREFIXES = [/^models\//, /^(?:us|eu|apac|global|us-gov)\./];
const CACHE_MAX = 1024;

/**
 * Prices per provider/model: the shipped table under config.json's `pricing` overrides. A provider
 * configured under its own name (custom_provider_config) falls back to its base kind's prices.
 */
export class PriceTable {
  private readonly prices: Map<string, Price>;
  private readonly kinds: ReadonlyMap<string, string>;
  // Lookups normalise strings; remember results, bounded because model strings come from clients.
  private readonly cache = new Map<string, Price | null>();

  constructor(overrides: Record<string, Price> = {}, kinds: ReadonlyMap<string, string> = new Map(), base: ReadonlyMap<string, Price> = defaultPrices()) {
    this.prices = new Map(base);
    for (const [k, v] of Object.entries(overrides)) this.prices.set(k, v);
    this.kinds = kinds;
  }

  /** Every priced `provider/model`. */
  keys(): IterableIterator<string> {
    return this.prices.keys();
  }

  /** The price of `model` at `provider`, or undefined when neither the table nor an override knows it. */
  priceOf(provider: string, model: string): Price | undefined {
    const key = `${provider}/${model}`;
    let hit = this.cache.get(key);
    if (hit === undefined) {
      hit = this.resolve(provider, model) ?? null;
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(key, hit);
    }
    return hit ?? undefined;
  }

  /** USD cost of one request, or undefined when the model has no price (unknown is not free). */
  costOf(provider: string, model: string, usage: TokenUsage | null | undefined): number | undefined {
    if (!usage) return undefined;
    const price = this.priceOf(provider, model);
    if (!price) return undefined;
    const input = usage.prompt_tokens ?? usage.input_tokens ?? 0;
    const output = usage.completion_tokens ?? usage.output_tokens ?? 0;
    return (input * price.input_per_mtok + output * price.output_per_mtok) / 1_000_000;
  }

  private resolve(provider: string, model: string): Price | undefined {
    const kind = this.kinds.get(provider);
    const providers = kind && kind !== provider ? [provider, kind] : [provider];
    for (const p of providers) {
      const price = this.find(p, model);
      if (price) return price;
    }
    return undefined;
  }

  private find(provider: string, model: string): Price | undefined {
    let m = model;
    for (const re of PREFIXES) m = m.replace(re, '');
    const exact = this.prices.get(`${provider}/${model}`) ?? this.prices.get(`${provider}/${m}`);
    if (exact) return exact;
    // Strip one version marker at a time so `claude-3-5-sonnet-20241022-v2:0` reaches `claude-3-5-sonnet`.
    for (let changed = true; changed; ) {
      changed = false;
      for (const re of SUFFIXES) {
        const next = m.replace(re, '');
        if (next !== m) {
          m = next;
          changed = true;
          const hit = this.prices.get(`${provider}/${m}`);
          if (hit) return hit;
        }
      }
    }
    return undefined;
  }
}
