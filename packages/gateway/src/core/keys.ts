import type { ProviderKey } from '../providers/provider.js';

/**
 * Weighted random choice among the keys that serve a model. `avoid` holds keys to use only when
 * nothing else is left (a key that just got a 429); `exclude` holds keys put aside for this
 * request (401/403).
 */
export function pickKey(keys: readonly ProviderKey[], model: string, exclude?: ReadonlySet<string>, avoid?: ReadonlySet<string>): ProviderKey | undefined {
  return pick(keys, model, exclude, avoid) ?? (avoid && avoid.size > 0 ? pick(keys, model, exclude, undefined) : undefined);
}

function pick(keys: readonly ProviderKey[], model: string, exclude?: ReadonlySet<string>, avoid?: ReadonlySet<string>): ProviderKey | undefined {
  if (keys.length === 1 && !exclude?.size && !avoid?.size) {
    const only = keys[0] as ProviderKey;
    return serves(only, model) ? only : undefined;
  }
  let total = 0;
  for (const k of keys) if (usable(k, model, exclude, avoid)) total += k.weight;
  if (total <= 0) return undefined;
  let r = Math.random() * total;
  let last: ProviderKey | undefined;
  for (const k of keys) {
    if (!usable(k, model, exclude, avoid)) continue;
    last = k;
    r -= k.weight;
    if (r < 0) return k;
  }
  return last;
}

function usable(k: ProviderKey, model: string, exclude?: ReadonlySet<string>, avoid?: ReadonlySet<string>): boolean {
  return serves(k, model) && !exclude?.has(k.name) && !avoid?.has(k.name);
}

export function serves(k: ProviderKey, model: string): boolean {
  return k.models.length === 0 || k.models.includes(model) || k.models.includes('*');
}
