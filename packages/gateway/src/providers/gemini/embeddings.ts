import { GatewayError } from '../../schema/errors.js';
import type { EmbeddingResponse } from '../../schema/openai.js';
import type { LLMRequest } from '../../schema/request.js';
import { numberParam } from '../translate/params.js';

/**
 * OpenAI embeddings ↔ Gemini `embedContent` (one input) and `batchEmbedContents` (several).
 * Gemini embeds text only; token-id inputs cannot be sent.
 */
export interface EmbedCall { method: 'embedContent' | 'batchEmbedContents'; body: Record<string, unknown>; count: number }

export function embedCall(req: LLMRequest, model: string, provider: string): EmbedCall {
  const inputs = typeof req.input === 'string' ? [req.input] : (req.input as unknown[]);
  if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((x) => typeof x === 'string')) {
    throw new GatewayError('GH_ERR_INVALID_REQUEST', `${provider}: embeddings take a string or a list of strings (token ids are not supported)`, { provider, param: 'input' });
  }
  const dims = numberParam(req.params, 'dimensions');
  const one = (text: string): Record<string, unknown> => ({
    model: `models/${model}`,
    content: { parts: [{ text }] },
    ...(dims !== undefined ? { outputDimensionality: dims } : {}),
  });
  if (inputs.length === 1) return { method: 'embedContent', body: one(inputs[0] as string), count: 1 };
  return { method: 'batchEmbedContents', body: { requests: (inputs as string[]).map(one) }, count: inputs.length };
}

interface GeminiEmbedBody { embedding?: { values?: number[] }; embeddings?: Array<{ values?: number[] }> }

export function embeddingsFromGemini(body: GeminiEmbedBody, model: string, base64: boolean): EmbeddingResponse | undefined {
  const list = body.embeddings ?? (body.embedding ? [body.embedding] : undefined);
  if (!Array.isArray(list)) return undefined;
  return {
    object: 'list',
    data: list.map((e, index) => ({ object: 'embedding' as const, index, embedding: base64 ? toBase64(e.values ?? []) : (e.values ?? []) })),
    model,
    // Gemini's embedding endpoints report no token counts.
    usage: { prompt_tokens: 0, total_tokens: 0 },
  };
}

/** `encoding_format: "base64"` (the openai SDK's default): little-endian float32, base64. */
function toBase64(values: number[]): string {
  return Buffer.from(new Float32Array(values).buffer).toString('base64');
}
