import type { ChatCompletion, ChatMessage, FinishReason, ToolCall, Usage } from '../../schema/openai.js';
import { makeUsage, randomId } from '../translate/chunks.js';
import type { ErrorDialect } from '../translate/upstream-error.js';

/** Cohere v2 chat response → OpenAI chat.completion. */

export interface CohereUsage {
  billed_units?: { input_tokens?: number; output_tokens?: number };
  tokens?: { input_tokens?: number; output_tokens?: number };
}
interface CohereToolCall { id?: string; function?: { name?: string; arguments?: string } }
export interface CohereChatResponse {
  id?: string;
  finish_reason?: string;
  message?: { role?: string; content?: Array<{ type?: string; text?: string }>; tool_calls?: CohereToolCall[]; tool_plan?: string };
  usage?: CohereUsage;
}

export function cohereFinishReason(reason: unknown): FinishReason {
  switch (reason) {
    case undefined:
    case null:
      return null;
    case 'MAX_TOKENS':
      return 'length';
    case 'TOOL_CALL':
      return 'tool_calls';
    default: // COMPLETE, STOP_SEQUENCE, ERROR (the error is reported as such elsewhere)
      return 'stop';
  }
}

export function cohereToChat(res: CohereChatResponse, model: string): ChatCompletion {
  const text = (res.message?.content ?? []).filter((c) => c.type === 'text' && typeof c.text === 'string').map((c) => c.text).join('');
  const calls: ToolCall[] = (res.message?.tool_calls ?? []).map((c) => ({
    id: c.id ?? randomId('call_'), type: 'function', function: { name: c.function?.name ?? '', arguments: c.function?.arguments ?? '{}' },
  }));
  const message: ChatMessage = { role: 'assistant', content: calls.length > 0 && !text ? null : text };
  if (calls.length > 0) message.tool_calls = calls;
  return {
    id: res.id ?? randomId('chatcmpl-'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, finish_reason: cohereFinishReason(res.finish_reason) ?? 'stop', logprobs: null }],
    usage: cohereUsage(res.usage),
  };
}

/** Actual token counts when Cohere reports them, billed units otherwise. */
export function cohereUsage(u: CohereUsage | undefined): Usage {
  const t = u?.tokens ?? u?.billed_units;
  return makeUsage(t?.input_tokens ?? 0, t?.output_tokens ?? 0);
}

/** Cohere errors: `{"id"?, "message": "..."}`. */
export const cohereErrorDialect: ErrorDialect = (body) => {
  const b = (body ?? {}) as Record<string, unknown>;
  return { message: typeof b.message === 'string' ? b.message : undefined };
};
