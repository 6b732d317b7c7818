import { createAdapter, knownProviderKinds } from '../providers/registry.js';
import type { NetworkSettings, ProviderAdapter, ProviderKey } from '../providers/provider.js';
import type { ParsedConfig } from './schema.js';

/** One configured provider, ready for routing: its adapter, keys and network settings. */
export interface ProviderSettings {
  name: string;
  adapter: ProviderAdapter;
  keys: ProviderKey[];
  network: NetworkSettings;
  meta: Record<string, unknown>;
  /** Models named explicitly by keys (for /v1/models and error messages); empty = any. */
  models: string[];
  /** True when some key serves every model. */
  anyModel: boolean;
}

export function buildProviders(raw: ParsedConfig['providers'], fail: (msg: string) => Error): Map<string, ProviderSettings> {
  const out = new Map<string, ProviderSettings>();
  for (const [name, p] of Object.entries(raw)) {
    const kind = p.custom_provider_config?.base_provider_type ?? name;
    const adapter = createAdapter(kind);
    if (!adapter) {
      const where = p.custom_provider_config ? `providers.${name}.custom_provider_config.base_provider_type` : `providers.${name}`;
      throw fail(`${where}: unknown provider "${kind}"; expected one of ${knownProviderKinds().join(', ')} (or set custom_provider_config.base_provider_type)`);
    }
    const keys: ProviderKey[] = p.keys.map((k, i) => {
      const key: ProviderKey = { name: k.name ?? k.id ?? `${name}-${i}`, value: k.value, models: k.models, weight: k.weight };
      const config = k.bedrock_key_config ?? k.vertex_key_config;
      if (config) key.config = Object.freeze(config);
      return key;
    });
    if (adapter.requiresKey && keys.length === 0) throw fail(`providers.${name}.keys: at least one key is required for ${kind}`);
    keys.forEach((k, i) => {
      const problem = adapter.checkKey ? adapter.checkKey(k) : adapter.requiresKey && !k.value ? `value: an API key is required for ${kind}` : undefined;
      if (problem) throw fail(`providers.${name}.keys[${i}].${problem}`);
    });
    // Keyless providers (mock, local servers) get one implicit key so routing stays uniform.
    if (keys.length === 0) keys.push({ name: `${name}-default`, value: '', models: [], weight: 1 });
    const n = p.network_config;
    const baseUrl = n.base_url ?? adapter.defaultBaseUrl;
    const anyModel = keys.some((k) => k.models.length === 0 || k.models.includes('*'));
    const models = [...new Set(keys.flatMap((k) => k.models.filter((m) => m !== '*')))];
    out.set(name, {
      name,
      adapter,
      keys,
      network: {
        baseUrl,
        extraHeaders: n.extra_headers,
        requestTimeoutMs: n.default_request_timeout_in_seconds * 1000,
        maxRetries: n.max_retries,
        retryBackoffInitialMs: n.retry_backoff_initial_ms,
        retryBackoffMaxMs: n.retry_backoff_max_ms,
        streamIdleTimeoutMs: n.stream_idle_timeout_in_seconds * 1000,
        bodyIdleTimeoutMs: (n.body_idle_timeout_in_seconds ?? n.default_request_timeout_in_seconds) * 1000,
        bodyLimits: Object.freeze({
          maxBodyBytes: Math.floor(n.max_response_body_size_mb * 1024 * 1024),
          maxErrorBodyBytes: Math.floor(n.max_error_body_size_kb * 1024),
          maxEventBytes: Math.floor(n.max_stream_event_size_mb * 1024 * 1024),
          // Never shorter than the time allowed for the headers.
          responseTimeoutMs: Math.max(n.response_timeout_in_seconds, n.default_request_timeout_in_seconds) * 1000,
        }),
      },
      meta: p.meta_config,
      models,
      anyModel,
    });
  }
  return out;
}
