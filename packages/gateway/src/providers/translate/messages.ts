import type { ChatMessage, ContentPart } from '../../schema/openai.js';

/**
 * Reading OpenAI chat messages the way every non-OpenAI adapter needs to: content as parts,
 * images as inline bytes or links, tool-call arguments as objects.
 */

/** `content` is a string, an array of parts, or null; adapters want parts. */
export function contentParts(content: ChatMessage['content'] | undefined): ContentPart[] {
  if (typeof content === 'string') return content.length > 0 ? [{ type: 'text', text: content }] : [];
  return Array.isArray(content) ? content : [];
}

/** The text of a message, parts joined; non-text parts are left out. */
export function contentText(content: ChatMessage['content'] | undefined): string {
  return contentParts(content)
    .filter((p) => p.type === 'text' && typeof (p as { text?: unknown }).text === 'string')
    .map((p) => (p as { text: string }).text)
    .join('\n');
}

/** An image part's URL, or undefined for any other part. */
export function imageUrlOf(part: ContentPart): string | undefined {
  if (part.type !== 'image_url') return undefined;
  const iu = (part as { image_url?: unknown }).image_url;
  if (typeof iu === 'string') return iu;
  const url = (iu as { url?: unknown } | undefined)?.url;
  return typeof url === 'string' ? url : undefined;
}

export interface InlineData { mimeType: string; data: string }

/** `data:image/png;base64,AAAA` → its media type and base64 payload; null for other URLs. */
export function parseDataUrl(url: string): InlineData | null {
  const m = /^data:([^;,]+)?((?:;[^;,]*)*?);base64,(.*)$/s.exec(url);
  if (!m) return null;
  return { mimeType: m[1] ?? 'application/octet-stream', data: m[3] ?? '' };
}

const MIME_BY_EXT: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  heic: 'image/heic', heif: 'image/heif', pdf: 'application/pdf',
};

/** Guesses a media type from a URL's extension (Gemini's fileData wants one). */
export function mimeFromUrl(url: string): string | undefined {
  let path = url;
  try { path = new URL(url).pathname; } catch { /* not absolute: use as is */ }
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return ext ? MIME_BY_EXT[ext] : undefined;
}

/**
 * OpenAI sends tool-call arguments as a JSON string; Anthropic and Gemini want an object.
 * Arguments a model produced may be broken JSON: they are kept under `_raw` rather than dropped.
 */
export function parseToolArguments(args: unknown): Record<string, unknown> {
  if (args && typeof args === 'object' && !Array.isArray(args)) return args as Record<string, unknown>;
  if (typeof args !== 'string' || args.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(args);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
  } catch {
    return { _raw: args };
  }
}

/** The last user message's text (prompts for text completions, echo logic in mocks). */
export function lastUserText(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === 'user') return contentText(messages[i]?.content);
  return '';
}
