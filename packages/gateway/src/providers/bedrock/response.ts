import type { ChatCompletion, ChatMessage, FinishReason, ToolCall, Usage } from '../../schema/openai.js';
import { makeUsage, randomId } from '../translate/chunks.js';
import type { ErrorDialect } from '../translate/upstream-error.js';

/** Bedrock Converse response → OpenAI chat.completion. */

export interface ConverseUsage { inputTokens?: number; outputTokens?: number; totalTokens?: number; cacheReadInputTokens?: number; cacheWriteInputTokens?: number }
interface ConverseBlock { text?: string; toolUse?: { toolUseId?: string; name?: string; input?: unknown }; reasoningContent?: unknown }
export interface ConverseResponse {
  output?: { message?: { role?: string; content?: ConverseBlock[] } };
  stopReason?: string;
  usage?: ConverseUsage;
}

/** Converse `stopReason` → OpenAI `finish_reason`. */
export function bedrockFinishReason(stop: unknown): FinishReason {
  switch (stop) {
    case undefined:
    case null:
      return null;
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    default: // end_turn, stop_sequence
      return 'stop';
  }
}

export function converseToChat(res: ConverseResponse, model: string): ChatCompletion {
  let text = '';
  const calls: ToolCall[] = [];
  for (const block of res.output?.message?.content ?? []) {
    if (typeof block.text === 'string') text += block.text;
    else if (block.toolUse) {
      calls.push({ id: block.toolUse.toolUseId ?? randomId('call_'), type: 'function', function: { name: block.toolUse.name ?? '', arguments: JSON.stringify(block.toolUse.input ?? {}) } });
    }
  }
  const message: ChatMessage = { role: 'assistant', content: text.length > 0 || calls.length === 0 ? text : null };
  if (calls.length > 0) message.tool_calls = calls;
  return {
    id: randomId('chatcmpl-'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, finish_reason: bedrockFinishReason(res.stopReason) ?? 'stop', logprobs: null }],
    usage: converseUsage(res.usage),
  };
}

export function converseUsage(u: ConverseUsage | undefined): Usage {
  const prompt = (u?.inputTokens ?? 0) + (u?.cacheReadInputTokens ?? 0) + (u?.cacheWriteInputTokens ?? 0);
  const usage = makeUsage(prompt, u?.outputTokens ?? 0);
  if (u?.cacheReadInputTokens) usage.prompt_tokens_details = { cached_tokens: u.cacheReadInputTokens };
  return usage;
}

/**
 * AWS JSON errors: `{"message": "..."}` (some services spell it `Message`), the error name in the
 * `x-amzn-errortype` header (`ValidationException:http://...`) or a `__type` field.
 */
export const bedrockErrorDialect: ErrorDialect = (body) => {
  const b = (body ?? {}) as Record<string, unknown>;
  const message = typeof b.message === 'string' ? b.message : typeof b.Message === 'string' ? b.Message : undefined;
  const type = typeof b.__type === 'string' ? b.__type.split('#').pop() : undefined;
  return { message, code: type ?? null };
};

/** The exception name from `x-amzn-errortype`, without its namespace suffix. */
export function awsErrorType(headers: Record<string, string | string[] | undefined>): string | undefined {
  const v = headers['x-amzn-errortype'];
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s.split(':')[0] : undefined;
}
