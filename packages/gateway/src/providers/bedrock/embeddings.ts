import { GatewayError } from '../../schema/errors.js';
import type { EmbeddingResponse } from '../../schema/openai.js';
import type { LLMRequest } from '../../schema/request.js';
import { numberParam } from '../translate/params.js';

/**
 * OpenAI embeddings ↔ Bedrock InvokeModel bodies. Titan embeds one text per call
 * (`{inputText, dimensions}` → `{embedding, inputTextTokenCount}`); Cohere embeds a list
 * (`{texts, input_type}` → `{embeddings: [[...]]}`).
 */
export type EmbedFamily = 'titan' | 'cohere';

export function embedFamily(modelId: string): EmbedFamily | undefined {
  const id = modelId.slice(modelId.lastIndexOf('/') + 1).replace(/^(us|eu|apac|global)\./, '');
  if (id.startsWith('amazon.titan-embed')) return 'titan';
  if (id.startsWith('cohere.embed')) return 'cohere';
  return undefined;
}

export function embedInputs(req: LLMRequest, provider: string): string[] {
  const inputs = typeof req.input === 'string' ? [req.input] : (req.input as unknown[]);
  if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((x) => typeof x === 'string' && x.length > 0)) {
    throw new GatewayError('GH_ERR_INVALID_REQUEST', `${provider}: embeddings take a non-empty string or a list of them (token ids are not supported)`, { provider, param: 'input' });
  }
  return inputs as string[];
}

export function titanBody(text: string, req: LLMRequest): Record<string, unknown> {
  const dims = numberParam(req.params, 'dimensions');
  return { inputText: text, ...(dims !== undefined ? { dimensions: dims } : {}) };
}

export function cohereBody(texts: string[], req: LLMRequest): Record<string, unknown> {
  const inputType = typeof req.params.input_type === 'string' ? req.params.input_type : 'search_document';
  return { texts, input_type: inputType };
}

export function embeddingList(vectors: number[][], model: string, promptTokens: number, base64: boolean): EmbeddingResponse {
  return {
    object: 'list',
    data: vectors.map((v, index) => ({ object: 'embedding' as const, index, embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

export function isVector(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number');
}
