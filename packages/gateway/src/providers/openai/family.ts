/**
 * Providers that speak OpenAI's wire format, with their default base URLs. `base_url` follows
 * Bifrost's convention (no `/v1`); `apiPrefix` is what goes between it and `/chat/completions`.
 */
export interface CompatibleProvider { baseUrl: string; apiPrefix: string; requiresKey: boolean }

export const OPENAI_COMPATIBLE: Record<string, CompatibleProvider> = {
  openai: { baseUrl: 'https://api.openai.com', apiPrefix: '/v1', requiresKey: true },
  groq: { baseUrl: 'https://api.groq.com/openai', apiPrefix: '/v1', requiresKey: true },
  mistral: { baseUrl: 'https://api.mistral.ai', apiPrefix: '/v1', requiresKey: true },
  openrouter: { baseUrl: 'https://openrouter.ai/api', apiPrefix: '/v1', requiresKey: true },
  xai: { baseUrl: 'https://api.x.ai', apiPrefix: '/v1', requiresKey: true },
  deepseek: { baseUrl: 'https://api.deepseek.com', apiPrefix: '/v1', requiresKey: true },
  together: { baseUrl: 'https://api.together.xyz', apiPrefix: '/v1', requiresKey: true },
  fireworks: { baseUrl: 'https://api.fireworks.ai/inference', apiPrefix: '/v1', requiresKey: true },
  cerebras: { baseUrl: 'https://api.cerebras.ai', apiPrefix: '/v1', requiresKey: true },
  perplexity: { baseUrl: 'https://api.perplexity.ai', apiPrefix: '', requiresKey: true },
  ollama: { baseUrl: 'http://localhost:11434', apiPrefix: '/v1', requiresKey: false },
  vllm: { baseUrl: 'http://localhost:8000', apiPrefix: '/v1', requiresKey: false },
  lmstudio: { baseUrl: 'http://localhost:1234', apiPrefix: '/v1', requiresKey: false },
};

/** Joins a base URL and an API path without doubling a version segment the user already wrote. */
export function joinApiUrl(baseUrl: string, apiPrefix: string, endpoint: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  const prefix = apiPrefix && /\/v\d+(beta\d*)?$/.test(base) ? '' : apiPrefix;
  return `${base}${prefix}${endpoint}`;
}
