import type { SseFrame, StreamEncoder } from '../../../core/front.js';
import type { ChatCompletionChunk, FinishReason, Usage } from '../../../schema/openai.js';
import type { StreamChunk } from '../../../schema/stream.js';
import { anthropicStopReason, anthropicUsageOf, messageId } from './response.js';

/**
 * Internal chat chunks → the Anthropic Messages event sequence:
 *   message_start, ping, then per content block content_block_start, content_block_delta
 *   (text_delta or input_json_delta), content_block_stop; then message_delta (stop_reason and
 *   usage, held back until the usage chunk or the end) and message_stop.
 * OpenAI numbers tool calls; Anthropic numbers every content block, text included.
 */
export class AnthropicStreamEncoder implements StreamEncoder {
  #started = false;
  #model: string;
  /** Index of the open block, -1 when none. */
  #open = -1;
  #openKind: 'text' | 'tool' | '' = '';
  #next = 0;
  /** OpenAI tool-call index → Anthropic block index. */
  #toolBlock = new Map<number, number>();
  #finish: FinishReason = null;
  #usage: Usage | null = null;
  #done = false;

  constructor(model: string) {
    this.#model = model;
  }

  event(chunk: StreamChunk): SseFrame[] {
    const c = chunk.value as ChatCompletionChunk;
    const out: SseFrame[] = [];
    if (!this.#started) this.#start(c, out);
    if (c.usage) this.#usage = c.usage;
    const choice = c.choices?.[0];
    if (!choice) return out;
    const d = choice.delta ?? {};
    if (typeof d.content === 'string' && d.content.length > 0) {
      if (this.#openKind !== 'text') this.#openBlock(out, 'text', { type: 'text', text: '' });
      out.push(frame('content_block_delta', { type: 'content_block_delta', index: this.#open, delta: { type: 'text_delta', text: d.content } }));
    }
    for (const t of d.tool_calls ?? []) {
      let block = this.#toolBlock.get(t.index);
      if (block === undefined) {
        block = this.#openBlock(out, 'tool', { type: 'tool_use', id: t.id ?? '', name: t.function?.name ?? '', input: {} });
        this.#toolBlock.set(t.index, block);
      }
      const args = t.function?.arguments;
      if (args) out.push(frame('content_block_delta', { type: 'content_block_delta', index: block, delta: { type: 'input_json_delta', partial_json: args } }));
    }
    if (choice.finish_reason) {
      this.#finish = choice.finish_reason;
      this.#closeBlock(out);
    }
    return out;
  }

  end(): SseFrame[] {
    const out: SseFrame[] = [];
    if (this.#done) return out;
    this.#done = true;
    if (!this.#started) this.#start({ id: '', model: this.#model } as ChatCompletionChunk, out);
    this.#closeBlock(out);
    const usage = anthropicUsageOf(this.#usage);
    out.push(frame('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: anthropicStopReason(this.#finish) ?? 'end_turn', stop_sequence: null },
      usage: { output_tokens: usage.output_tokens, input_tokens: usage.input_tokens },
    }));
    out.push(frame('message_stop', { type: 'message_stop' }));
    return out;
  }

  #start(c: ChatCompletionChunk, out: SseFrame[]): void {
    this.#started = true;
    out.push(frame('message_start', {
      type: 'message_start',
      message: {
        id: messageId(c.id), type: 'message', role: 'assistant', model: c.model || this.#model, content: [],
        stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 },
      },
    }));
    out.push(frame('ping', { type: 'ping' }));
  }

  #openBlock(out: SseFrame[], kind: 'text' | 'tool', block: Record<string, unknown>): number {
    this.#closeBlock(out);
    const index = this.#next++;
    this.#open = index;
    this.#openKind = kind;
    out.push(frame('content_block_start', { type: 'content_block_start', index, content_block: block }));
    return index;
  }

  #closeBlock(out: SseFrame[]): void {
    if (this.#open < 0) return;
    out.push(frame('content_block_stop', { type: 'content_block_stop', index: this.#open }));
    this.#open = -1;
    this.#openKind = '';
  }
}

function frame(event: string, data: unknown): SseFrame {
  return { event, data: JSON.stringify(data) };
}
