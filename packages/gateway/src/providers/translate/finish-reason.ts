import type { FinishReason } from '../../schema/openai.js';

/** Anthropic `stop_reason` → OpenAI `finish_reason`. */
export function anthropicFinishReason(stop: unknown): FinishReason {
  switch (stop) {
    case null:
    case undefined:
      return null;
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default: // end_turn, stop_sequence, pause_turn and anything newer
      return 'stop';
  }
}

const GEMINI_FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']);

/**
 * Gemini `finishReason` → OpenAI `finish_reason`. Gemini says STOP even when it called a
 * function, so the caller tells whether the candidate holds function calls.
 */
export function geminiFinishReason(reason: unknown, hasToolCalls: boolean): FinishReason {
  if (reason === undefined || reason === null || reason === 'FINISH_REASON_UNSPECIFIED') return null;
  if (reason === 'MAX_TOKENS') return 'length';
  if (typeof reason === 'string' && GEMINI_FILTERED.has(reason)) return 'content_filter';
  return hasToolCalls ? 'tool_calls' : 'stop';
}
