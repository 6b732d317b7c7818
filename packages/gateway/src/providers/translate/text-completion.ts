import { GatewayError } from '../../schema/errors.js';
import type { ChatCompletion, ChatCompletionChunk, TextCompletion } from '../../schema/openai.js';
import type { LLMRequest } from '../../schema/request.js';
import { StreamChunk } from '../../schema/stream.js';
import type { ProviderResult } from '../provider.js';

/**
 * Providers with only a chat API (Anthropic, Gemini) serve `/v1/completions` as a one-message
 * chat; these helpers convert the request, the response and the stream.
 */
export function chatRequestFromText(req: LLMRequest, provider: string): LLMRequest {
  const input = req.input;
  let prompt: string;
  if (typeof input === 'string') prompt = input;
  else if (Array.isArray(input) && input.length === 1 && typeof input[0] === 'string') prompt = input[0];
  else {
    throw new GatewayError('GH_ERR_UNSUPPORTED_OPERATION', `${provider}: text completions take a single string prompt here`, { provider, param: 'prompt' });
  }
  return { ...req, request_type: 'chat_completion', input: [{ role: 'user', content: prompt }] };
}

export function textCompletionFromChat(chat: ChatCompletion | ChatCompletionChunk | undefined): TextCompletion {
  const c = chat as ChatCompletion;
  const out: TextCompletion = {
    id: c.id,
    object: 'text_completion',
    created: c.created,
    model: c.model,
    choices: c.choices.map((ch) => ({
      index: ch.index,
      text: typeof ch.message.content === 'string' ? ch.message.content : '',
      finish_reason: ch.finish_reason,
      logprobs: null,
    })),
  };
  if (c.usage) out.usage = c.usage;
  return out;
}

/** Chat chunks → `text_completion` stream events (the shape OpenAI streams for /v1/completions). */
export async function* textStreamFromChat(chunks: AsyncIterable<StreamChunk>): AsyncGenerator<StreamChunk> {
  for await (const chunk of chunks) {
    const c = chunk.value as ChatCompletionChunk;
    const choices = c.choices.map((ch) => ({
      index: ch.index, text: typeof ch.delta.content === 'string' ? ch.delta.content : '', finish_reason: ch.finish_reason, logprobs: null,
    }));
    if (choices.length > 0 && choices.every((ch) => ch.text === '' && ch.finish_reason === null)) continue;
    const out: Record<string, unknown> = { id: c.id, object: 'text_completion', created: c.created, model: c.model, choices };
    if (c.usage) out.usage = c.usage;
    yield StreamChunk.fromValue(out);
  }
}

/** Serves a text completion through a provider's chat call: converts the request, then the answer or the stream. */
export async function completeViaChat(req: LLMRequest, provider: string, chat: (r: LLMRequest) => Promise<ProviderResult>): Promise<ProviderResult> {
  const result = await chat(chatRequestFromText(req, provider));
  if (result.kind === 'stream') return { kind: 'stream', stream: textStreamFromChat(result.stream) };
  if (result.kind === 'passthrough') return result;
  return { kind: 'response', response: { text_completion_response: textCompletionFromChat(result.response.chat_response) } };
}
