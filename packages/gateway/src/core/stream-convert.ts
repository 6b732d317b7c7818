import type { ChatCompletion, ChatCompletionChunk } from '../schema/openai.js';
import { StreamChunk } from '../schema/stream.js';

/**
 * A whole chat completion as stream events, for a client that asked for `stream: true` but got a
 * response a plugin produced (a short-circuit) rather than a provider stream.
 */
export function completionToChunks(c: ChatCompletion, includeUsage: boolean): StreamChunk[] {
  const base = { id: c.id, object: 'chat.completion.chunk' as const, created: c.created, model: c.model };
  const out: StreamChunk[] = [];
  for (const choice of c.choices ?? []) {
    const m = choice.message ?? { role: 'assistant', content: '' };
    const delta: ChatCompletionChunk['choices'][0]['delta'] = { role: m.role, content: typeof m.content === 'string' ? m.content : '' };
    if (m.tool_calls) delta.tool_calls = m.tool_calls.map((t, index) => ({ index, id: t.id, type: t.type, function: t.function }));
    out.push(StreamChunk.fromValue({ ...base, choices: [{ index: choice.index, delta, finish_reason: null }] }));
    out.push(StreamChunk.fromValue({ ...base, choices: [{ index: choice.index, delta: {}, finish_reason: choice.finish_reason ?? 'stop' }] }));
  }
  if (includeUsage && c.usage) out.push(StreamChunk.fromValue({ ...base, choices: [], usage: c.usage }));
  return out;
}
