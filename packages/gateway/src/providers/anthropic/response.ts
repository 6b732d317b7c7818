import type { ChatCompletion, ChatMessage, ToolCall, Usage } from '../../schema/openai.js';
import { anthropicFinishReason } from '../translate/finish-reason.js';
import { makeUsage } from '../translate/chunks.js';
import type { ErrorDialect } from '../translate/upstream-error.js';

/** Anthropic Messages response → OpenAI chat.completion. */

export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

interface AnthropicMessageBody {
  id?: string;
  model?: string;
  content?: Array<{ type?: string; text?: string; id?: string; name?: string; input?: unknown }>;
  stop_reason?: string | null;
  usage?: AnthropicUsage;
}

export function anthropicToChat(msg: AnthropicMessageBody, requestedModel: string): ChatCompletion {
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const block of msg.content ?? []) {
    if (block.type === 'text' && typeof block.text === 'string') text += block.text;
    else if (block.type === 'tool_use') {
      toolCalls.push({ id: block.id ?? '', type: 'function', function: { name: block.name ?? '', arguments: JSON.stringify(block.input ?? {}) } });
    }
    // thinking / redacted_thinking blocks have no place in an OpenAI message.
  }
  const message: ChatMessage = { role: 'assistant', content: text.length > 0 || toolCalls.length === 0 ? text : null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    id: msg.id ?? '',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: msg.model ?? requestedModel,
    choices: [{ index: 0, message, finish_reason: anthropicFinishReason(msg.stop_reason), logprobs: null }],
    usage: anthropicUsage(msg.usage),
  };
}

/** Cached prompt tokens are still prompt tokens to an OpenAI client. */
export function anthropicUsage(u: AnthropicUsage | undefined, outputTokens?: number): Usage {
  const prompt = (u?.input_tokens ?? 0) + (u?.cache_creation_input_tokens ?? 0) + (u?.cache_read_input_tokens ?? 0);
  const usage = makeUsage(prompt, outputTokens ?? u?.output_tokens ?? 0);
  if (u?.cache_read_input_tokens) usage.prompt_tokens_details = { cached_tokens: u.cache_read_input_tokens };
  return usage;
}

/** Anthropic error body: `{"type":"error","error":{"type":"rate_limit_error","message":"..."}}`. */
export const anthropicErrorDialect: ErrorDialect = (body) => {
  const err = (body as { error?: { type?: unknown; message?: unknown } } | null)?.error;
  const type = typeof err?.type === 'string' ? err.type : undefined;
  return {
    message: typeof err?.message === 'string' ? err.message : undefined,
    type,
    code: type ?? null,
  };
};
