import type { ChatMessage } from './openai.js';
import type { JsonBytes } from './bytes.js';
import type { FrontName } from './front-errors.js';
import type { ResponsesInputItem } from './responses.js';

/**
 * Which API the client called; the plugin contract's `request_type`. The first three are the
 * classic OpenAI routes; the others each have a route of their own (and a native or translated
 * implementation per provider, see providers/provider.ts).
 */
export type RequestType =
  | 'chat_completion'
  | 'text_completion'
  | 'embedding'
  | 'responses'
  | 'speech'
  | 'transcription'
  | 'image_generation'
  | 'rerank'
  | 'count_tokens';

export const REQUEST_TYPES: readonly RequestType[] = [
  'chat_completion', 'text_completion', 'embedding', 'responses', 'speech', 'transcription', 'image_generation', 'rerank', 'count_tokens',
];

/** An uploaded audio file (transcription): bytes, never base64 unless a WASM hook reads them. */
export interface FileInput {
  file: JsonBytes;
  filename: string;
  content_type: string;
}

/** What to rank (rerank): the query and the documents, as strings or `{text}` objects. */
export interface RerankInput {
  query: string;
  documents: Array<string | { text: string; [k: string]: unknown }>;
}

/**
 * `input` per request type:
 * - chat_completion, count_tokens: chat messages (OpenAI shape)
 * - text_completion: the prompt; embedding: the input (strings or token arrays)
 * - responses: a string or Responses API input items, as the client sent them
 * - speech: the text to speak; image_generation: the prompt
 * - transcription: the uploaded file; rerank: the query and documents
 */
export type LLMInput =
  | ChatMessage[]
  | string
  | string[]
  | number[]
  | number[][]
  | ResponsesInputItem[]
  | FileInput
  | RerankInput;

/**
 * The one internal request, flat as the plugin contract's `pre_hook` input:
 * `input` is what the request type is about (above); `params` holds every other body field
 * (temperature, tools, stream, voice, size...) untouched.
 */
export interface LLMRequest {
  request_type: RequestType;
  provider: string;
  model: string;
  input: LLMInput;
  params: Record<string, unknown>;
  /** Further targets as `provider/model`, tried in order when this one fails. */
  fallbacks: string[];
}

export function isStreaming(req: LLMRequest): boolean {
  return req.params.stream === true;
}

export function chatMessages(req: LLMRequest): ChatMessage[] {
  return Array.isArray(req.input) ? (req.input as ChatMessage[]) : [];
}

/**
 * The client's own body, kept beside the internal request by a vendor front (Anthropic, GenAI).
 * When the provider speaks that same format and no LLM hook is loaded (none could change the
 * body), the bytes go upstream as they came and the answer comes back untouched, so vendor
 * features the internal schema does not model (extended thinking, betas, cache control) survive.
 * A symbol key: JSON.stringify and Object.keys never see it; object spread copies it along.
 */
export interface ClientBody {
  format: FrontName;
  /** The vendor API path below its version prefix (`/messages`, `/messages/count_tokens`, `/models/{m}:generateContent`...). */
  path: string;
  body: Uint8Array;
  json: Record<string, unknown>;
  /** The model as the body names it; the body is rewritten only when routing changed it. */
  model: string;
  /** Vendor headers to forward (`anthropic-version`, `anthropic-beta`); never credentials. */
  headers: Record<string, string>;
  stream: boolean;
}

const kClientBody = Symbol('gatehouse.client-body');

export function attachClientBody(req: LLMRequest, raw: ClientBody): LLMRequest {
  (req as { [kClientBody]?: ClientBody })[kClientBody] = raw;
  return req;
}

export function clientBodyOf(req: LLMRequest): ClientBody | undefined {
  return (req as { [kClientBody]?: ClientBody })[kClientBody];
}

export function dropClientBody(req: LLMRequest): void {
  if ((req as { [kClientBody]?: ClientBody })[kClientBody] !== undefined) (req as { [kClientBody]?: ClientBody })[kClientBody] = undefined;
}
