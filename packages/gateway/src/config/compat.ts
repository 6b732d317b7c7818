/**
 * What a Bifrost config.json holds that Gatehouse does not run as written, turned into start-up
 * warnings instead of refusals: built-in plugin entries (no `path`), keys Gatehouse ignores, and
 * keys neither knows (probably typos, reported with the closest valid name).
 */
import { BIFROST_BUILTIN_PLUGINS, BIFROST_KEYS, type KeyLevel } from './bifrost-keys.js';
import { formatPath } from './env-refs.js';
import { clientSchema, configSchema, keySchema, networkSchema, pluginSchema, providerSchema } from './schema.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Gatehouse's own names per level, read from the zod schema so a key added there is known here. */
function gatehouseKeys(level: KeyLevel): readonly string[] {
  const shape = {
    root: configSchema.shape, client: clientSchema.shape, provider: providerSchema.shape,
    network_config: networkSchema.shape, key: keySchema.shape, plugin: pluginSchema.shape,
  }[level];
  return Object.keys(shape);
}

/** Top-level keys Gatehouse reads; the others are accepted and ignored (their `env.` refs are not resolved). */
export function isGatehouseRootKey(key: string): boolean {
  return key in configSchema.shape;
}

/**
 * Takes Bifrost's built-in plugin entries (a name, no `path`) out of `plugins`, with a warning
 * naming the Gatehouse feature that does the job, and lists the warnings for unknown and ignored
 * keys. Returns the config to validate (the input is not changed).
 */
export function prepareBifrostConfig(raw: unknown, warnings: string[]): unknown {
  if (!isObj(raw)) return raw;
  unknownKeys(raw, 'root', [], warnings);
  const ignored = Object.keys(raw).filter((k) => !isGatehouseRootKey(k) && (BIFROST_KEYS.root as readonly string[]).includes(k));
  if (ignored.length) warnings.push(`config keys Gatehouse does not use yet are ignored (accepted for Bifrost compatibility): ${ignored.join(', ')}`);
  if (isObj(raw.client)) unknownKeys(raw.client, 'client', ['client'], warnings);
  if (isObj(raw.providers)) {
    for (const [name, p] of Object.entries(raw.providers)) {
      if (!isObj(p)) continue;
      unknownKeys(p, 'provider', ['providers', name], warnings);
      if (isObj(p.network_config)) unknownKeys(p.network_config, 'network_config', ['providers', name, 'network_config'], warnings);
      if (Array.isArray(p.keys)) p.keys.forEach((k, i) => { if (isObj(k)) unknownKeys(k, 'key', ['providers', name, 'keys', String(i)], warnings); });
    }
  }
  if (!Array.isArray(raw.plugins)) return raw;
  const plugins: unknown[] = [];
  raw.plugins.forEach((p, i) => {
    if (!isObj(p)) return void plugins.push(p);
    unknownKeys(p, 'plugin', ['plugins', String(i)], warnings);
    if (p.path !== undefined && p.path !== null && p.path !== '') return void plugins.push(p);
    const name = typeof p.name === 'string' ? p.name : '';
    const job = BIFROST_BUILTIN_PLUGINS[name.toLowerCase()];
    const off = p.enabled !== true ? ' (it is not enabled anyway)' : '';
    warnings.push(job
      ? `plugins[${i}] ("${name}") is one of Bifrost's built-in plugins and is skipped${off}: ${job}`
      : `plugins[${i}] ("${name}") has no "path" and is not a Bifrost built-in plugin Gatehouse knows; it is skipped${off}`);
  });
  return { ...raw, plugins };
}

function unknownKeys(obj: Obj, level: KeyLevel, path: string[], warnings: string[]): void {
  const ours = gatehouseKeys(level);
  const theirs = BIFROST_KEYS[level] as readonly string[];
  for (const key of Object.keys(obj)) {
    if (ours.includes(key) || theirs.includes(key)) continue;
    const near = closest(key, [...ours, ...theirs]);
    warnings.push(`unknown config key ${formatPath([...path, key])} (neither Gatehouse's nor Bifrost's; ignored)${near ? `: did you mean "${near}"?` : ''}`);
  }
}

/** The candidate nearest to `word` by edit distance, when it is near enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) { bestD = d; best = c; }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

export function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
