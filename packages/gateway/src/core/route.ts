import type { ProviderSettings } from '../config/providers.js';
import { GatewayError } from '../schema/errors.js';

export interface Target {
  provider: ProviderSettings;
  model: string;
}

/**
 * Resolves a `provider/model` name. The prefix is a provider only when one by that name is
 * configured, so `openrouter/meta-llama/llama-3.1-8b` keeps its slashes in the model part. A bare
 * model name is accepted when exactly one provider lists it.
 * Results are cached per name: routing costs one Map lookup on the hot path.
 */
export class Router {
  readonly #providers: ReadonlyMap<string, ProviderSettings>;
  readonly #cache = new Map<string, Target>();

  constructor(providers: ReadonlyMap<string, ProviderSettings>) {
    this.#providers = providers;
  }

  resolve(name: unknown, param = 'model'): Target {
    if (typeof name !== 'string' || name.length === 0) {
      throw new GatewayError('GH_ERR_INVALID_REQUEST', `'${param}' must be a non-empty string like "openai/gpt-4o-mini"`, { param });
    }
    const hit = this.#cache.get(name);
    if (hit) return hit;
    const target = this.#resolveUncached(name, param);
    if (this.#cache.size < 10_000) this.#cache.set(name, target);
    return target;
  }

  #resolveUncached(name: string, param: string): Target {
    const slash = name.indexOf('/');
    if (slash > 0) {
      const provider = this.#providers.get(name.slice(0, slash));
      if (provider) return this.#checkModel(provider, name.slice(slash + 1), name, param);
    }
    const listing = [...this.#providers.values()].filter((p) => p.models.includes(name));
    if (listing.length === 1) return { provider: listing[0] as ProviderSettings, model: name };
    const configured = [...this.#providers.keys()];
    const hint = listing.length > 1
      ? `model "${name}" is served by several providers (${listing.map((p) => p.name).join(', ')}); name one, e.g. "${listing[0]?.name}/${name}"`
      : `unknown provider in model "${name}"; use "provider/model" with a configured provider: ${configured.join(', ') || '(none configured)'}`;
    throw new GatewayError('GH_ERR_UNKNOWN_PROVIDER', hint, { param });
  }

  #checkModel(provider: ProviderSettings, model: string, full: string, param: string): Target {
    if (!model) throw new GatewayError('GH_ERR_INVALID_REQUEST', `'${param}' "${full}" names no model after the provider`, { param });
    if (!provider.anyModel && !provider.models.includes(model)) {
      throw new GatewayError('GH_ERR_UNKNOWN_MODEL', `model "${model}" is not configured for provider "${provider.name}"; configured: ${provider.models.map((m) => `${provider.name}/${m}`).join(', ')}`, { param });
    }
    return { provider, model };
  }
}
