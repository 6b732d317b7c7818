import type { ParseLimits } from '../../core/parse-request.js';
import { GatewayError } from '../../schema/errors.js';
import { deeperThan } from '../../schema/json-depth.js';

/** A front's JSON body as an object, with the same checks and messages as the OpenAI routes. */
export function readJsonObject(body: Uint8Array | null, limits: ParseLimits): Record<string, unknown> {
  if (!body || body.byteLength === 0) throw invalid('request body is empty; expected a JSON object', null);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    throw new GatewayError('GH_ERR_INVALID_JSON', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid('request body must be a JSON object', null);
  if (body.byteLength > 2 * limits.maxJsonDepth && deeperThan(json, limits.maxJsonDepth)) {
    throw invalid(`request body nests objects/arrays deeper than ${limits.maxJsonDepth} levels (client.max_json_depth)`, null);
  }
  return json as Record<string, unknown>;
}

export function invalid(message: string, param: string | null): GatewayError {
  return new GatewayError('GH_ERR_INVALID_REQUEST', message, { param });
}

export function fallbacksOf(v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((f) => typeof f !== 'string')) throw invalid(`'fallbacks' must be an array of "provider/model" strings`, 'fallbacks');
  return v as string[];
}

/**
 * A vendor front's model: `provider/model` when the prefix is a configured provider, otherwise
 * the vendor's own provider (`claude-sonnet-4` on the Anthropic front is `anthropic/claude-sonnet-4`).
 */
export function vendorModel(model: string, vendor: string, providers: ReadonlyMap<string, unknown>): string {
  const slash = model.indexOf('/');
  if (slash > 0 && providers.has(model.slice(0, slash))) return model;
  return `${vendor}/${model}`;
}
