import type { ChatCompletionChunk } from './openai.js';

/**
 * One event of a response stream. Providers that already speak OpenAI hand over the JSON text
 * untouched; it is parsed only if a hook asks for `value`, and re-serialised only if a hook
 * replaced it. That keeps streams that no plugin looks at free of per-chunk JSON work.
 */
export class StreamChunk {
  #text: string | undefined;
  #value: ChatCompletionChunk | Record<string, unknown> | undefined;

  private constructor(text: string | undefined, value: ChatCompletionChunk | Record<string, unknown> | undefined) {
    this.#text = text;
    this.#value = value;
  }

  static fromJson(text: string): StreamChunk {
    return new StreamChunk(text, undefined);
  }

  static fromValue(value: ChatCompletionChunk | Record<string, unknown>): StreamChunk {
    return new StreamChunk(undefined, value);
  }

  /** The parsed event; throws SyntaxError when the upstream sent invalid JSON. */
  get value(): ChatCompletionChunk | Record<string, unknown> {
    if (this.#value === undefined) this.#value = JSON.parse(this.#text as string);
    // Whoever reads the value may mutate it in place: the text must be rebuilt from it.
    this.#text = undefined;
    return this.#value as ChatCompletionChunk;
  }

  set value(v: ChatCompletionChunk | Record<string, unknown>) {
    this.#value = v;
    this.#text = undefined;
  }

  get json(): string {
    if (this.#text === undefined) this.#text = JSON.stringify(this.#value);
    return this.#text;
  }

  get parsed(): boolean {
    return this.#value !== undefined;
  }
}

