import type { ChatCompletionChunk, FinishReason, Usage } from '../../schema/openai.js';
import { StreamChunk } from '../../schema/stream.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

/**
 * Builds `chat.completion.chunk` events for adapters that translate another provider's stream:
 * every chunk of one response shares its id, creation time and model, as OpenAI's do.
 */
export class ChunkBuilder {
  id: string;
  model: string;
  readonly created = Math.floor(Date.now() / 1000);

  constructor(id: string, model: string) {
    this.id = id;
    this.model = model;
  }

  delta(delta: Delta, finish: FinishReason = null, index = 0): StreamChunk {
    return StreamChunk.fromValue(this.#base([{ index, delta, finish_reason: finish }]));
  }

  /** The `stream_options.include_usage` chunk: no choices, only usage. */
  usage(usage: Usage): StreamChunk {
    return StreamChunk.fromValue({ ...this.#base([]), usage });
  }

  #base(choices: ChatCompletionChunk['choices']): ChatCompletionChunk {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices };
  }
}

export function makeUsage(prompt: number, completion: number, total?: number): Usage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: total ?? prompt + completion };
}

/** A short random id for responses and tool calls the upstream did not name. */
export function randomId(prefix: string): string {
  return `${prefix}${Math.random().toString(36).slice(2, 12)}${Date.now().toString(36)}`;
}
