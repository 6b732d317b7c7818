import type { ChatCompletion, FinishReason, Usage } from '../../../schema/openai.js';

/** Internal chat completion → Anthropic Messages response. */

export function anthropicStopReason(f: FinishReason | undefined): string | null {
  switch (f) {
    case null:
    case undefined:
      return null;
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

export function anthropicUsageOf(u: Usage | null | undefined): Record<string, number> {
  const cached = (u?.prompt_tokens_details as { cached_tokens?: number } | undefined)?.cached_tokens ?? 0;
  const out: Record<string, number> = { input_tokens: Math.max(0, (u?.prompt_tokens ?? 0) - cached), output_tokens: u?.completion_tokens ?? 0 };
  if (cached) out.cache_read_input_tokens = cached;
  return out;
}

export function messageId(id: string | undefined): string {
  return id && id.startsWith('msg_') ? id : `msg_${id ?? ''}`;
}

export function chatToAnthropic(c: ChatCompletion): Record<string, unknown> {
  const choice = c.choices?.[0];
  const m = choice?.message;
  const content: Array<Record<string, unknown>> = [];
  const text = typeof m?.content === 'string' ? m.content : Array.isArray(m?.content) ? m.content.map((p) => (p as { text?: string }).text ?? '').join('') : '';
  if (text) content.push({ type: 'text', text });
  for (const call of m?.tool_calls ?? []) {
    content.push({ type: 'tool_use', id: call.id, name: call.function?.name ?? '', input: parseArgs(call.function?.arguments) });
  }
  return {
    id: messageId(c.id),
    type: 'message',
    role: 'assistant',
    model: c.model,
    content,
    stop_reason: anthropicStopReason(choice?.finish_reason) ?? 'end_turn',
    stop_sequence: null,
    usage: anthropicUsageOf(c.usage),
  };
}

export function parseArgs(args: string | undefined): unknown {
  if (!args) return {};
  try {
    return JSON.parse(args);
  } catch {
    return { _raw: args };
  }
}
