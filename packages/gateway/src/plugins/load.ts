import type { ParsedPlugin } from '../config/schema.js';
import type { Placement, PluginEntry, PluginEntryConfig, PluginLoadOptions, PluginLoader } from './plugin.js';
import { loadNativePlugin, NATIVE_HOOK_TIMEOUT_MS } from './native/load.js';

const PLACEMENT_RANK: Record<Placement, number> = { pre_builtin: 0, builtin: 1, post_builtin: 2 };

/** A plugin that could not be loaded; the message names the plugin, its path and the reason. */
export class PluginLoadError extends Error {
  constructor(entry: { name: string; path: string }, reason: string) {
    super(`plugin "${entry.name}" (${entry.path}) failed to load: ${reason}`);
    this.name = 'PluginLoadError';
  }
}

/** Pre-hook order: placement group, then `order` ascending; ties keep the config's order. */
export function orderPlugins<T extends { placement: Placement; order: number }>(entries: readonly T[]): T[] {
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => PLACEMENT_RANK[a.e.placement] - PLACEMENT_RANK[b.e.placement] || a.e.order - b.e.order || a.i - b.i)
    .map((x) => x.e);
}

function isWasm(path: string): boolean {
  return /\.wasm($|\?)/i.test(path) || /^https?:\/\//i.test(path);
}

/** Go's `plugin.Open` files: no JavaScript host can run them. */
function isSharedObject(path: string): boolean {
  return /\.(so|dylib|dll)($|\?)/i.test(path);
}

const SHARED_OBJECT_MESSAGE = 'native Go plugins (.so) cannot run in Gatehouse; build it as a .wasm plugin: see docs/writing-wasm-plugins.md';

/** An entry that failed to load and was left out because its on_error is fail_open. */
export interface NotLoaded { name: string; path: string; error: string }

/**
 * Loads every enabled plugin, in pipeline order. The WASM host is imported only when needed. An
 * entry that fails to load refuses the start (the default), unless its `on_error` is `fail_open`:
 * then it is left out with a warning and listed in `notLoaded` (shown by /health).
 */
export async function loadPlugins(configured: readonly ParsedPlugin[], opts: PluginLoadOptions & { notLoaded?: NotLoaded[] }): Promise<PluginEntry[]> {
  const out: PluginEntry[] = [];
  for (const cfg of orderPlugins(configured.filter((p) => p.enabled))) {
    const entry = cfg as PluginEntryConfig;
    let loader: PluginLoader = loadNativePlugin;
    if (isSharedObject(entry.path)) loader = () => Promise.reject(new Error(SHARED_OBJECT_MESSAGE));
    else if (isWasm(entry.path)) loader = (await import('./wasm/index.js')).loadWasmPlugin;
    try {
      const plugin = await loader(entry, opts);
      out.push({
        plugin,
        name: entry.name,
        onError: entry.on_error,
        timeoutMs: isWasm(entry.path) ? undefined : (entry.limits.timeout_ms ?? NATIVE_HOOK_TIMEOUT_MS),
      });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (entry.on_error === 'fail_open') {
        opts.log.warn({ plugin: entry.name, path: entry.path, err: reason }, 'plugin failed to load; starting without it (on_error: fail_open)');
        opts.notLoaded?.push({ name: entry.name, path: entry.path, error: reason });
        continue;
      }
      for (const loaded of out) await Promise.resolve(loaded.plugin.cleanup?.()).catch(() => undefined);
      throw new PluginLoadError(entry, reason);
    }
  }
  return out;
}
