import { readFileSync } from 'node:fs';

/** USD per million tokens for one provider/model. */
export interface Price {
  input_per_mtok: number;
  output_per_mtok: number;
}

// The file sits beside src/ and dist/ (packages/gateway/pricing), so both the sources run by tsx
// and the built package find it at the same relative place.
const DEFAULT_FILE = new URL('../../pricing/prices.json', import.meta.url);

let defaults: ReadonlyMap<string, Price> | undefined;

/** The shipped price table, read once. Keys are `<provider>/<model>`. */
export function defaultPrices(): ReadonlyMap<string, Price> {
  if (!defaults) {
    const raw = JSON.parse(readFileSync(DEFAULT_FILE, 'utf8')) as Record<string, unknown>;
    const m = new Map<string, Price>();
    for (const [k, v] of Object.entries(raw)) if (!k.startsWith('$')) m.set(k, v as Price);
    defaults = m;
  }
  return defaults;
}
