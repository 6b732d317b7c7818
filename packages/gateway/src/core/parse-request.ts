import { GatewayError } from '../schema/errors.js';
import { deeperThan } from '../schema/json-depth.js';
import type { ChatMessage } from '../schema/openai.js';
import type { LLMRequest } from '../schema/request.js';
import type { ClassicType } from '../providers/provider.js';

const INPUT_FIELD: Record<ClassicType, 'messages' | 'prompt' | 'input'> = {
  chat_completion: 'messages',
  text_completion: 'prompt',
  embedding: 'input',
};

/** Shape limits on a client body (`client.max_json_depth`, `client.max_messages`). */
export interface ParseLimits {
  maxJsonDepth: number;
  maxMessages: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = Object.freeze({ maxJsonDepth: 64, maxMessages: 2048 });

/**
 * Client body to internal request. Checks only what the gateway itself relies on (model, the
 * input field, stream, fallbacks) and the shape limits; every other field is the provider's to
 * judge and passes through in `params`. `provider` and `model` are filled in by routing.
 */
export function parseInferenceBody(type: ClassicType, body: Uint8Array | null, limits: ParseLimits = DEFAULT_PARSE_LIMITS): LLMRequest {
  if (!body || body.byteLength === 0) throw invalid('request body is empty; expected a JSON object', null);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    throw new GatewayError('GH_ERR_INVALID_JSON', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid('request body must be a JSON object', null);
  // Nesting deeper than the limit takes at least 2 bytes per level, so short bodies skip the walk.
  // V8's JSON.parse copes with any depth, but recursive code downstream (stringify, plugins) would not.
  if (body.byteLength > 2 * limits.maxJsonDepth && deeperThan(json, limits.maxJsonDepth)) {
    throw invalid(`request body nests objects/arrays deeper than ${limits.maxJsonDepth} levels (client.max_json_depth)`, null);
  }
  const obj = json as Record<string, unknown>;
  const field = INPUT_FIELD[type];
  const { model, fallbacks, [field]: input, ...params } = obj;
  if (typeof model !== 'string' || model.length === 0) throw invalid(`'model' is required: a string like "openai/gpt-4o-mini"`, 'model');
  if (type === 'chat_completion') checkMessages(input, limits.maxMessages);
  else if (!isPromptLike(input)) throw invalid(`'${field}' is required: a string or an array of strings${type === 'embedding' ? ' (or token arrays)' : ''}`, field);
  else if (Array.isArray(input) && input.length > limits.maxMessages) throw invalid(`'${field}' has ${input.length} items; the limit is ${limits.maxMessages} (client.max_messages)`, field);
  if (params.stream !== undefined && typeof params.stream !== 'boolean') throw invalid(`'stream' must be a boolean`, 'stream');
  if (type === 'embedding' && params.stream === true) throw invalid('embeddings cannot be streamed', 'stream');
  if (fallbacks !== undefined && (!Array.isArray(fallbacks) || fallbacks.some((f) => typeof f !== 'string'))) {
    throw invalid(`'fallbacks' must be an array of "provider/model" strings`, 'fallbacks');
  }
  return {
    request_type: type,
    provider: '',
    model,
    input: input as LLMRequest['input'],
    params,
    fallbacks: (fallbacks as string[] | undefined) ?? [],
  };
}

function checkMessages(input: unknown, max: number): asserts input is ChatMessage[] {
  if (!Array.isArray(input) || input.length === 0) throw invalid(`'messages' is required: a non-empty array of messages`, 'messages');
  if (input.length > max) throw invalid(`'messages' has ${input.length} messages; the limit is ${max} (client.max_messages)`, 'messages');
  for (let i = 0; i < input.length; i++) {
    const m = input[i] as Record<string, unknown> | null;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw invalid(`'messages[${i}]' must be an object`, `messages[${i}]`);
    if (typeof m.role !== 'string') throw invalid(`'messages[${i}].role' must be a string`, `messages[${i}].role`);
    const c = m.content;
    if (c !== undefined && c !== null && typeof c !== 'string' && !Array.isArray(c)) {
      throw invalid(`'messages[${i}].content' must be a string, an array of content parts, or null`, `messages[${i}].content`);
    }
  }
}

function isPromptLike(x: unknown): boolean {
  if (typeof x === 'string') return true;
  if (!Array.isArray(x) || x.length === 0) return false;
  return x.every((v) => typeof v === 'string' || typeof v === 'number' || (Array.isArray(v) && v.every((n) => typeof n === 'number')));
}

function invalid(message: string, param: string | null): GatewayError {
  return new GatewayError('GH_ERR_INVALID_REQUEST', message, { param });
}
