// __NAME__: a native Gatehouse plugin. The gateway loads this file as it is (no build step).
// Only types come from 'gatehouse', so the plugin has no runtime dependency on the gateway.
import type { LLMRequest, Plugin, PreLLMResult, RequestContext } from 'gatehouse';

export interface Config {
  /** Requests for this model are answered with 403 without calling the provider. */
  blocked_model?: string;
}

/** A default factory: each config entry that names this file gets its own instance. */
export default function create(config: Config = {}): Plugin {
  const blocked = config.blocked_model ?? 'blocked-model';
  return {
    name: '__NAME__',

    preLLMHook(ctx: RequestContext, req: LLMRequest): PreLLMResult {
      ctx.setValue('__NAME__.model', req.model);
      if (req.model !== blocked) return undefined; // nothing returned: no change
      return {
        shortCircuit: {
          error: {
            status_code: 403,
            error: { message: `model ${req.model} is blocked by __NAME__`, type: 'forbidden', code: '403' },
            allow_fallbacks: false,
          },
        },
      };
    },
  };
}
