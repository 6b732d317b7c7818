/**
 * The deterministic "model" behind every mock upstream: it echoes the last user message
 * (`Echo: <text>`), reports a tool result it was handed (`Tool result: <content>`), calls a
 * tool when the message names one of the offered tools (or the request forces one), and embeds
 * text as a stable unit vector. Tests can predict every answer from the request alone.
 */
import { createHash } from 'node:crypto';

export function words(s: string): number {
  return s.split(/\s+/).filter(Boolean).length;
}

/** Splits text into word-sized pieces that concatenate back to it. */
export function pieces(text: string): string[] {
  const out = text.split(/(?<= )/);
  return out.length ? out : [''];
}

/** Keeps the first `max` words (the answer to a small max_tokens), telling whether it cut. */
export function limitWords(text: string, max: number | undefined): { text: string; cut: boolean } {
  if (max === undefined || words(text) <= max) return { text, cut: false };
  return { text: text.split(' ').slice(0, Math.max(0, max)).join(' '), cut: true };
}

/** The tool to call: the forced one, else the first offered tool the prompt names, else `required ? first : none`. */
export function pickTool(names: string[], prompt: string, forced?: string, required = false): string | undefined {
  if (names.length === 0) return undefined;
  if (forced) return forced;
  return names.find((n) => prompt.includes(n)) ?? (required ? names[0] : undefined);
}

export function vector(text: string, dims = 8): number[] {
  const digest = createHash('sha256').update(text).digest();
  const v = Array.from({ length: dims }, (_, i) => (digest[i % digest.length] as number) / 255 - 0.5);
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

let seq = 0;
export function mockId(prefix: string): string {
  return `${prefix}${(++seq).toString(36)}${Date.now().toString(36)}`;
}
