import type { Plugin, PluginEntryConfig, PluginLogger } from '../plugin.js';
import { adaptLegacyInterceptor } from './v13-adapter.js';

type Hooks = Omit<Plugin, 'name'>;
const HOOK_NAMES = ['httpTransportPreHook', 'httpTransportPostHook', 'httpTransportStreamChunkHook', 'preLLMHook', 'postLLMHook', 'cleanup'] as const;

/**
 * Turns a module into a Plugin. Accepted shapes (contract, section 2): named exports; a default
 * object; a default factory `(config) => plugin` (so two entries with one path get two instances).
 * `init(config)` runs once here; a throw stops the gateway from starting.
 */
export async function adaptNativeModule(mod: Record<string, unknown>, entry: PluginEntryConfig, log: PluginLogger): Promise<Plugin> {
  let impl: Record<string, unknown>;
  // A TypeScript plugin reads `config.x`: an absent config is an empty object here (WASM gets length 0).
  const config = entry.config === undefined ? {} : entry.config;
  const def = mod.default;
  if (typeof def === 'function') impl = (await (def as (c: unknown) => unknown)(config)) as Record<string, unknown>;
  else if (def && typeof def === 'object') impl = def as Record<string, unknown>;
  else impl = mod;
  if (!impl || typeof impl !== 'object') throw new Error('the module exports no plugin (expected hook functions, a default object, or a default factory)');

  if (typeof impl.init === 'function') await (impl.init as (c: unknown) => unknown).call(impl, config);
  const name = typeof impl.getName === 'function' ? String((impl.getName as () => unknown).call(impl)) : typeof impl.name === 'string' ? impl.name : entry.name;

  const plugin: Hooks & { name: string } = { name };
  let found = 0;
  for (const hook of HOOK_NAMES) {
    const fn = impl[hook];
    if (typeof fn === 'function') {
      (plugin as Record<string, unknown>)[hook] = (fn as (...a: unknown[]) => unknown).bind(impl);
      if (hook !== 'cleanup') found++;
    } else if (fn !== undefined) {
      throw new Error(`export "${hook}" must be a function, got ${typeof fn}`);
    }
  }
  if (typeof impl.TransportInterceptor === 'function' || typeof impl.transportInterceptor === 'function') {
    if (plugin.httpTransportPreHook) throw new Error('exports both TransportInterceptor (v1.3) and httpTransportPreHook; keep only httpTransportPreHook');
    plugin.httpTransportPreHook = adaptLegacyInterceptor((impl.TransportInterceptor ?? impl.transportInterceptor) as never, impl);
    log.warn({ plugin: entry.name }, 'TransportInterceptor is the deprecated v1.3 hook; it runs as httpTransportPreHook. Migrate: see docs/plugins.md#migrating-from-v13');
    found++;
  }
  if (found === 0) log.warn({ plugin: entry.name }, 'plugin implements no hook; it will never run');
  return plugin;
}
