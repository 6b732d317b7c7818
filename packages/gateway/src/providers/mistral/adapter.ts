import type { LLMRequest } from '../../schema/request.js';
import { OpenAIAdapter } from '../openai/adapter.js';
import { OPENAI_COMPATIBLE } from '../openai/family.js';
import type { ProviderCall } from '../provider.js';
import type { ErrorDialect } from '../translate/upstream-error.js';

/**
 * Mistral's API is OpenAI's with its own spellings, and it refuses fields it does not know (422):
 * `seed` is `random_seed`, `max_completion_tokens` is `max_tokens`, embeddings take
 * `output_dimension` for `dimensions`; `stream_options` and `user` do not exist (Mistral puts usage
 * in the last stream chunk anyway).
 */
const RENAMED: Record<string, Record<string, string>> = {
  chat_completion: { seed: 'random_seed', max_completion_tokens: 'max_tokens' },
  text_completion: { seed: 'random_seed', max_completion_tokens: 'max_tokens' },
  embedding: { dimensions: 'output_dimension' },
};
const DROPPED = new Set(['stream_options', 'user', 'store', 'metadata', 'service_tier']);

export function mistralParams(req: LLMRequest): Record<string, unknown> {
  const renamed = RENAMED[req.request_type] ?? {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(req.params)) {
    if (DROPPED.has(k)) continue;
    const name = renamed[k] ?? k;
    // An explicit max_tokens wins over a renamed max_completion_tokens.
    if (name in out && k !== name) continue;
    out[name] = v;
  }
  return out;
}

/**
 * Mistral errors: `{"object":"error","message","type","param","code"}`, where a validation failure
 * carries the details (`{"detail":[{"loc","msg"}]}`) as the message or at the top level.
 */
export const mistralErrorDialect: ErrorDialect = (body) => {
  const b = (body ?? {}) as Record<string, unknown>;
  const inner = b.message && typeof b.message === 'object' ? (b.message as Record<string, unknown>) : b;
  const detail = Array.isArray(inner.detail) ? (inner.detail as Array<{ loc?: unknown[]; msg?: unknown }>) : undefined;
  const message = typeof b.message === 'string' && b.message
    ? b.message
    : detail
      ? detail.map((d) => `${Array.isArray(d.loc) ? d.loc.join('.') : ''}: ${String(d.msg ?? '')}`).join('; ')
      : typeof inner.detail === 'string' ? inner.detail : undefined;
  const str = (x: unknown): string | null => (typeof x === 'string' && x ? x : typeof x === 'number' ? String(x) : null);
  const out: ReturnType<ErrorDialect> = { code: str(b.code), param: str(b.param) };
  if (message !== undefined) out.message = message;
  const type = str(b.type);
  if (type) out.type = type;
  return out;
};

export class MistralAdapter extends OpenAIAdapter {
  constructor() {
    super('mistral', OPENAI_COMPATIBLE.mistral as NonNullable<typeof OPENAI_COMPATIBLE.mistral>);
  }

  protected override body(req: LLMRequest, call: ProviderCall): string {
    return JSON.stringify({ model: this.upstreamModel(req, call), [this.inputField(req)]: req.input, ...mistralParams(req) });
  }

  protected override errorDialect(): ErrorDialect {
    return mistralErrorDialect;
  }
}
