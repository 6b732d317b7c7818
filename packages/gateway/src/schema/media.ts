import type { JsonBytes } from './bytes.js';

// Response bodies of the audio, image, rerank and token-count request types, as they reach
// post_hook. Field names follow the OpenAI API where it has the type (speech, transcription,
// images) and the common rerank shape (Cohere v2 / Jina / Bifrost) otherwise.

/** POST /v1/audio/speech: the audio bytes (base64 in hook JSON) and their media type. */
export interface SpeechResponse {
  audio: JsonBytes;
  content_type: string;
  usage?: { input_tokens: number; output_tokens: number; total_tokens: number } | null;
  [k: string]: unknown;
}

/** POST /v1/audio/transcriptions with `response_format` json (or verbose_json: more fields). */
export interface TranscriptionResponse {
  text: string;
  usage?: Record<string, unknown> | null;
  [k: string]: unknown;
}

/** POST /v1/images/generations. */
export interface ImageGenerationResponse {
  created: number;
  data: Array<{ b64_json?: string; url?: string; revised_prompt?: string }>;
  usage?: Record<string, unknown> | null;
  [k: string]: unknown;
}

/** POST /v1/rerank: results best first, `index` into the request's documents. */
export interface RerankResponse {
  id?: string;
  model: string;
  results: Array<{ index: number; relevance_score: number; document?: { text: string } }>;
  usage?: Record<string, unknown> | null;
  [k: string]: unknown;
}

/** Token count of a would-be request (Anthropic count_tokens, Gemini countTokens, ...). */
export interface CountTokensResponse {
  input_tokens: number;
  model: string;
  [k: string]: unknown;
}
