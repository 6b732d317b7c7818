import { createHash } from 'node:crypto';
import type { ChatCompletion, ChatCompletionChunk, ChatMessage, ContentPart, EmbeddingResponse, TextCompletion, Usage } from '../../schema/openai.js';
import { GatewayError } from '../../schema/errors.js';
import { chatMessages, type LLMRequest, type RequestType } from '../../schema/request.js';
import type { CancelSignal } from '../../schema/cancel.js';
import { StreamChunk } from '../../schema/stream.js';
import type { ProviderAdapter, ProviderCall, ProviderResult } from '../provider.js';

/**
 * A deterministic provider that needs no network: it echoes the last user message, streams it
 * word by word, calls a tool when the message names one, and embeds text as a stable hash vector.
 * The demo config uses it, and plugin authors can develop against it offline.
 * `meta_config.chunk_delay_ms` spaces streamed words out, to watch a stream arrive.
 */
export class MockAdapter implements ProviderAdapter {
  readonly kind = 'mock';
  readonly defaultBaseUrl = 'mock://local';
  readonly requiresKey = false;
  #seq = 0;

  supports(_type: RequestType): boolean {
    return true;
  }

  /** One token per word of every message, as a stable estimate. */
  async countTokens(req: LLMRequest): Promise<ProviderResult> {
    const n = chatMessages(req).reduce((acc, m) => acc + words(textOf(m)), 0);
    return { kind: 'response', response: { count_tokens_response: { input_tokens: n, model: req.model } } };
  }

  async send(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    const id = `mock-${Date.now().toString(36)}-${(this.#seq++).toString(36)}`;
    const created = Math.floor(Date.now() / 1000);
    if (req.request_type === 'embedding') return { kind: 'response', response: { embedding_response: embed(req) } };
    if (req.request_type === 'text_completion') {
      const prompt = Array.isArray(req.input) ? req.input.join('\n') : String(req.input ?? '');
      const text = `Echo: ${prompt}`;
      const out: TextCompletion = {
        id: `cmpl-${id}`, object: 'text_completion', created, model: req.model,
        choices: [{ index: 0, text, finish_reason: 'stop', logprobs: null }],
        usage: usage(prompt, text),
      };
      return { kind: 'response', response: { text_completion_response: out } };
    }
    const messages = chatMessages(req);
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    const prompt = lastUser ? textOf(lastUser) : '';
    const tool = pickTool(req, prompt);
    const text = tool ? null : `Echo: ${prompt}`;
    if (req.params.stream === true) {
      const delay = Number(call.meta.chunk_delay_ms ?? 0);
      return { kind: 'stream', stream: streamChat(id, created, req, text, tool, prompt, delay, call.signal) };
    }
    const message: ChatMessage = { role: 'assistant', content: text };
    if (tool) message.tool_calls = [{ id: `call_${id}`, type: 'function', function: { name: tool, arguments: JSON.stringify({ input: prompt }) } }];
    const out: ChatCompletion = {
      id: `chatcmpl-${id}`, object: 'chat.completion', created, model: req.model,
      choices: [{ index: 0, message, finish_reason: tool ? 'tool_calls' : 'stop', logprobs: null }],
      usage: usage(messages.map(textOf).join(' '), text ?? tool ?? ''),
    };
    return { kind: 'response', response: { chat_response: out } };
  }
}

function textOf(m: ChatMessage): string {
  if (typeof m.content === 'string') return m.content;
  if (!Array.isArray(m.content)) return '';
  return (m.content as ContentPart[])
    .map((p) => (p?.type === 'text' ? String((p as { text: unknown }).text) : p?.type === 'image_url' ? '[image]' : ''))
    .filter(Boolean)
    .join(' ');
}

function words(s: string): number {
  return s.split(/\s+/).filter(Boolean).length;
}

function usage(prompt: string, completion: string): Usage {
  const p = words(prompt);
  const c = words(completion);
  return { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
}

/** A tool is called when forced by `tool_choice` or when the user's message names it. */
function pickTool(req: LLMRequest, prompt: string): string | null {
  // Client input, not checked by the gateway: a malformed tool or tool_choice is ignored, not a crash.
  const tools = req.params.tools as Array<{ function?: { name?: unknown } } | null> | undefined;
  if (!Array.isArray(tools) || tools.length === 0 || req.params.tool_choice === 'none') return null;
  const forced = (req.params.tool_choice as { function?: { name?: unknown } } | null | undefined)?.function?.name;
  if (typeof forced === 'string' && forced) return forced;
  const names = tools.map((t) => t?.function?.name).filter((n): n is string => typeof n === 'string' && n !== '');
  const named = names.find((n) => prompt.includes(n));
  if (named) return named;
  return req.params.tool_choice === 'required' ? (names[0] ?? null) : null;
}

async function* streamChat(
  id: string, created: number, req: LLMRequest, text: string | null, tool: string | null,
  prompt: string, delayMs: number, signal: CancelSignal,
): AsyncGenerator<StreamChunk> {
  const base = { id: `chatcmpl-${id}`, object: 'chat.completion.chunk' as const, created, model: req.model };
  const chunk = (delta: ChatCompletionChunk['choices'][0]['delta'], finish: ChatCompletionChunk['choices'][0]['finish_reason'] = null): StreamChunk =>
    StreamChunk.fromValue({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] });
  yield chunk({ role: 'assistant', content: '' });
  if (tool) {
    yield chunk({ tool_calls: [{ index: 0, id: `call_${id}`, type: 'function', function: { name: tool, arguments: '' } }] });
    yield chunk({ tool_calls: [{ index: 0, function: { arguments: JSON.stringify({ input: prompt }) } }] });
    yield chunk({}, 'tool_calls');
  } else {
    const parts = (text ?? '').split(/(?<= )/);
    for (const part of parts) {
      if (delayMs > 0) await sleep(delayMs, signal);
      yield chunk({ content: part });
    }
    yield chunk({}, 'stop');
  }
  const opts = req.params.stream_options as { include_usage?: boolean } | undefined;
  if (opts?.include_usage) {
    yield StreamChunk.fromValue({ ...base, choices: [], usage: usage(prompt, text ?? tool ?? '') });
  }
}

function sleep(ms: number, signal: CancelSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

function embed(req: LLMRequest): EmbeddingResponse {
  const inputs = Array.isArray(req.input) ? (req.input as unknown[]) : [req.input];
  const dims = req.params.dimensions ?? 8;
  if (typeof dims !== 'number' || !Number.isInteger(dims) || dims < 1 || dims > 4096) {
    throw new GatewayError('GH_ERR_INVALID_REQUEST', `'dimensions' must be an integer from 1 to 4096`, { param: 'dimensions', provider: 'mock' });
  }
  const data = inputs.map((input, index) => {
    const text = typeof input === 'string' ? input : JSON.stringify(input);
    const digest = createHash('sha256').update(text).digest();
    const vec = Array.from({ length: dims }, (_, i) => (digest[i % digest.length] as number) / 255 - 0.5);
    const norm = Math.hypot(...vec) || 1;
    const unit = vec.map((v) => v / norm);
    // As OpenAI does: `encoding_format: "base64"` (the SDKs' default) means little-endian float32 bytes.
    const embedding = req.params.encoding_format === 'base64' ? Buffer.from(new Float32Array(unit).buffer).toString('base64') : unit;
    return { object: 'embedding' as const, index, embedding };
  });
  const tokens = inputs.reduce<number>((n, i) => n + words(typeof i === 'string' ? i : ''), 0);
  return { object: 'list', data, model: req.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}
