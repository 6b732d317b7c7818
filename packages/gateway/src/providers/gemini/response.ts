import type { ChatCompletion, ChatMessage, ToolCall, Usage } from '../../schema/openai.js';
import { makeUsage, randomId } from '../translate/chunks.js';
import { geminiFinishReason } from '../translate/finish-reason.js';
import type { ErrorDialect } from '../translate/upstream-error.js';

/** Gemini GenerateContentResponse → OpenAI chat.completion. */

export interface GeminiPart { text?: string; thought?: boolean; functionCall?: { id?: string; name?: string; args?: unknown } }
export interface GeminiCandidate { index?: number; content?: { parts?: GeminiPart[] }; finishReason?: string }
export interface GeminiUsage { promptTokenCount?: number; candidatesTokenCount?: number; thoughtsTokenCount?: number; totalTokenCount?: number }
export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  usageMetadata?: GeminiUsage;
  modelVersion?: string;
  responseId?: string;
  promptFeedback?: { blockReason?: string };
}

/** Text and function calls of one candidate's parts (thought summaries are left out). */
export function readParts(parts: GeminiPart[] | undefined): { text: string; calls: ToolCall[] } {
  let text = '';
  const calls: ToolCall[] = [];
  for (const part of parts ?? []) {
    if (typeof part.text === 'string' && part.thought !== true) text += part.text;
    if (part.functionCall) {
      calls.push({
        id: part.functionCall.id ?? randomId('call_'),
        type: 'function',
        function: { name: part.functionCall.name ?? '', arguments: JSON.stringify(part.functionCall.args ?? {}) },
      });
    }
  }
  return { text, calls };
}

export function geminiToChat(res: GeminiResponse, requestedModel: string): ChatCompletion {
  const choices: ChatCompletion['choices'] = (res.candidates ?? []).map((cand, i) => {
    const { text, calls } = readParts(cand.content?.parts);
    const message: ChatMessage = { role: 'assistant', content: text.length > 0 || calls.length === 0 ? text : null };
    if (calls.length > 0) message.tool_calls = calls;
    return { index: cand.index ?? i, message, finish_reason: geminiFinishReason(cand.finishReason, calls.length > 0) ?? 'stop', logprobs: null };
  });
  // A blocked prompt comes back with no candidates at all.
  if (choices.length === 0) {
    choices.push({ index: 0, message: { role: 'assistant', content: null }, finish_reason: res.promptFeedback?.blockReason ? 'content_filter' : 'stop', logprobs: null });
  }
  return {
    id: res.responseId ?? randomId('chatcmpl-'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: res.modelVersion ?? requestedModel,
    choices,
    usage: geminiUsage(res.usageMetadata),
  };
}

export function geminiUsage(u: GeminiUsage | undefined): Usage {
  const prompt = u?.promptTokenCount ?? 0;
  // Thinking tokens are billed as output, as OpenAI counts reasoning tokens in completion_tokens.
  const completion = (u?.candidatesTokenCount ?? 0) + (u?.thoughtsTokenCount ?? 0);
  return makeUsage(prompt, completion, u?.totalTokenCount ?? prompt + completion);
}

/** Google error body: `{"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED"}}`, sometimes inside an array. */
export const geminiErrorDialect: ErrorDialect = (body) => {
  const root = Array.isArray(body) ? body[0] : body;
  const err = (root as { error?: { message?: unknown; status?: unknown } } | null)?.error;
  return {
    message: typeof err?.message === 'string' ? err.message : undefined,
    code: typeof err?.status === 'string' ? err.status : null,
  };
};
