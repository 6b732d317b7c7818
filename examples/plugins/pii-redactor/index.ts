/**
 * pii-redactor: replaces e-mail addresses and payment card numbers (13-19 digits, optionally
 * grouped with spaces or dashes, Luhn-valid) with placeholders
 *   - in requests (preLLMHook: message content strings and text parts, text-completion prompts),
 *   - in whole responses (postLLMHook),
 *   - in streamed chunks (httpTransportStreamChunkHook), where a number or address may arrive in
 *     pieces: the tail of each chunk that could still become one is held back and sent with the
 *     next chunk, and whatever is left is flushed with the chunk that carries `finish_reason`.
 */
import type {
  ChunkObject, HttpRequestData, LLMRequest, LLMResponse, Plugin, RequestContext,
} from '../../../packages/gateway/src/index.js';

interface PiiConfig {
  redact_requests?: boolean;
  redact_responses?: boolean;
  redact_streams?: boolean;
  email_placeholder?: string;
  card_placeholder?: string;
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/** 13-19 digits, single spaces or dashes allowed between them, not glued to other digits or letters. */
const CARD = /(?<![\dA-Za-z])\d(?:[ -]?\d){12,18}(?![\dA-Za-z])/g;
/** Longest text a card number can take: 19 digits and 18 separators. */
const MAX_CARD_CHARS = 37;
const MAX_EMAIL_CHARS = 254;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length >= 13 && digits.length <= 19 && sum % 10 === 0;
}

export function redactText(text: string, cfg: PiiConfig = {}): string {
  const card = cfg.card_placeholder ?? '[REDACTED_CARD]';
  const email = cfg.email_placeholder ?? '[REDACTED_EMAIL]';
  return text
    .replace(EMAIL, email)
    .replace(CARD, (m) => (luhnValid(m.replace(/[ -]/g, '')) ? card : m));
}

/**
 * Where the part of `text` that may still grow into a card number or an e-mail address begins
 * (text.length when nothing needs holding back).
 */
export function holdBackFrom(text: string): number {
  let cut = text.length;
  // A trailing run of digits, spaces and dashes that starts with a digit: maybe a card number.
  const digits = /\d[\d -]*$/.exec(text);
  if (digits) cut = Math.min(cut, Math.max(digits.index, text.length - MAX_CARD_CHARS));
  // A trailing word with no whitespace after it: maybe an e-mail address in progress.
  const word = /[A-Za-z0-9._%+-]+(?:@[A-Za-z0-9.-]*)?$/.exec(text);
  if (word) cut = Math.min(cut, Math.max(word.index, text.length - MAX_EMAIL_CHARS));
  return cut;
}

type Part = { type?: string; text?: unknown };
type Message = { content?: unknown };
type Choice = { index?: number; delta?: { content?: unknown }; message?: { content?: unknown }; finish_reason?: unknown; text?: unknown };

export default function piiRedactor(config: PiiConfig = {}): Plugin {
  const redact = (s: string): string => redactText(s, config);
  /** Per request (keyed by its context object), per choice index: the held-back tail. */
  const pending = new WeakMap<RequestContext, Map<number, string>>();

  const redactContent = (holder: { content?: unknown } | undefined): void => {
    if (!holder) return;
    if (typeof holder.content === 'string') holder.content = redact(holder.content);
    else if (Array.isArray(holder.content)) {
      for (const part of holder.content as Part[]) if (part?.type === 'text' && typeof part.text === 'string') part.text = redact(part.text);
    }
  };

  const plugin: Plugin = {
    name: 'pii-redactor',

    preLLMHook(_ctx: RequestContext, req: LLMRequest) {
      if (config.redact_requests === false) return;
      if (req.request_type === 'chat_completion' && Array.isArray(req.input)) {
        for (const m of req.input as Message[]) redactContent(m);
      } else if (typeof req.input === 'string') {
        req.input = redact(req.input);
      } else if (Array.isArray(req.input)) {
        req.input = (req.input as unknown[]).map((x) => (typeof x === 'string' ? redact(x) : x)) as LLMRequest['input'];
      }
    },

    postLLMHook(_ctx: RequestContext, resp: LLMResponse | null) {
      if (config.redact_responses === false || !resp) return;
      const body = (resp.chat_response ?? resp.text_completion_response) as { object?: string; choices?: Choice[] } | undefined;
      // Stream chunks are handled by the chunk hook, which sees them in order and can hold back.
      if (!body || body.object === 'chat.completion.chunk' || !Array.isArray(body.choices)) return;
      for (const c of body.choices) {
        redactContent(c.message);
        if (typeof c.text === 'string') c.text = redact(c.text);
      }
    },

    httpTransportStreamChunkHook(ctx: RequestContext, _req: HttpRequestData, chunk: ChunkObject) {
      if (config.redact_streams === false || !Array.isArray(chunk.choices)) return chunk;
      let held = pending.get(ctx);
      for (const c of chunk.choices as Choice[]) {
        const i = c.index ?? 0;
        const holder = c.delta ?? c;
        const key = c.delta ? 'content' : 'text';
        const piece = (holder as Record<string, unknown>)[key];
        const before = held?.get(i) ?? '';
        if (typeof piece !== 'string' && !before) continue;
        const text = before + (typeof piece === 'string' ? piece : '');
        const cut = c.finish_reason ? text.length : holdBackFrom(text);
        (holder as Record<string, unknown>)[key] = redact(text.slice(0, cut));
        if (!held) pending.set(ctx, (held = new Map()));
        if (cut < text.length) held.set(i, text.slice(cut));
        else held.delete(i);
      }
      return chunk;
    },
  };
  return plugin;
}
