import type { ChatCompletion, ChatCompletionChunk } from '../schema/openai.js';
import type { LLMRequest } from '../schema/request.js';
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

/**
 * A whole answer as stream events. A plugin's answer may leave out `object`, `id`, `created` or
 * `model` (the documents' examples do): whatever has choices with a `message` is a completion and
 * is split into chunks, with the missing fields filled in; a chunk (choices with `delta`) or any
 * other object goes out as one event.
 */
export function shortCircuitChunks(body: unknown, req: LLMRequest, requestId: string, includeUsage: boolean): StreamChunk[] {
  const b = body as Partial<ChatCompletion> & { object?: string; choices?: unknown };
  const choices = Array.isArray(b?.choices) ? (b.choices as Array<Record<string, unknown>>) : undefined;
  const isCompletion = b?.object === 'chat.completion'
    || (b?.object === undefined && choices !== undefined && choices.length > 0 && choices.every((c) => typeof c === 'object' && c !== null && 'message' in c));
  if (!isCompletion) return [StreamChunk.fromValue(body as Record<string, unknown>)];
  const filled = {
    ...b,
    id: typeof b.id === 'string' ? b.id : `chatcmpl-${requestId}`,
    created: typeof b.created === 'number' ? b.created : Math.floor(Date.now() / 1000),
    model: typeof b.model === 'string' && b.model ? b.model : req.model,
    choices: (choices ?? []).map((c, i) => ({ ...c, index: typeof c.index === 'number' ? c.index : i })),
  } as ChatCompletion;
  return completionToChunks(filled, includeUsage);
}
