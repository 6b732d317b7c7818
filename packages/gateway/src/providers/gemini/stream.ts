import { GatewayError } from '../../schema/errors.js';
import type { StreamChunk } from '../../schema/stream.js';
import type { UpstreamResponse } from '../upstream-client.js';
import { ChunkBuilder, randomId } from '../translate/chunks.js';
import { geminiFinishReason } from '../translate/finish-reason.js';
import { sseEvents } from '../translate/sse-parse.js';
import { geminiErrorDialect, geminiUsage, readParts, type GeminiResponse, type GeminiUsage } from './response.js';

/**
 * `streamGenerateContent?alt=sse`: every data event is a whole GenerateContentResponse holding
 * the next piece of each candidate. There is no end marker: the stream is complete when a
 * candidate carried a `finishReason` before the body ended; otherwise it was cut off.
 * Gemini sends a function call whole, so its chunk carries id, name and all arguments at once.
 */
export async function* geminiStream(
  res: UpstreamResponse, provider: string, model: string, withUsage: boolean,
): AsyncGenerator<StreamChunk> {
  const out = new ChunkBuilder(randomId('chatcmpl-'), model);
  const started = new Set<number>();
  const toolCount = new Map<number, number>();
  let usage: GeminiUsage | undefined;
  let finished = false;

  for await (const ev of sseEvents(res.body, provider, undefined, res.limits.maxEventBytes)) {
    if (ev.data.length === 0) continue;
    const data = parseEvent(ev.data, provider);
    if ('error' in data) throw streamError(data, provider);
    if (data.responseId && !started.size) out.id = data.responseId;
    if (data.modelVersion) out.model = data.modelVersion;
    if (data.usageMetadata) usage = data.usageMetadata;

    const candidates = data.candidates ?? [];
    if (candidates.length === 0 && data.promptFeedback?.blockReason) {
      if (!started.has(0)) yield out.delta({ role: 'assistant', content: '' });
      yield out.delta({}, 'content_filter');
      finished = true;
      continue;
    }
    for (const [i, cand] of candidates.entries()) {
      const index = cand.index ?? i;
      if (!started.has(index)) {
        started.add(index);
        yield out.delta({ role: 'assistant', content: '' }, null, index);
      }
      const { text, calls } = readParts(cand.content?.parts);
      if (text) yield out.delta({ content: text }, null, index);
      for (const call of calls) {
        const n = toolCount.get(index) ?? 0;
        toolCount.set(index, n + 1);
        yield out.delta({ tool_calls: [{ index: n, id: call.id, type: 'function', function: call.function }] }, null, index);
      }
      if (cand.finishReason) {
        const finish = geminiFinishReason(cand.finishReason, (toolCount.get(index) ?? 0) > 0);
        if (finish) {
          yield out.delta({}, finish, index);
          finished = true;
        }
      }
    }
  }
  if (!finished) {
    throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${provider}: stream ended before a finishReason`, { provider, retryable: true });
  }
  if (withUsage) yield out.usage(geminiUsage(usage));
}

function parseEvent(data: string, provider: string): GeminiResponse & { error?: unknown } {
  try {
    const v: unknown = JSON.parse(data);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as GeminiResponse;
  } catch {
    /* fall through */
  }
  throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${provider}: stream event is not valid JSON`, { provider, retryable: true });
}

function streamError(data: unknown, provider: string): GatewayError {
  const parsed = geminiErrorDialect(data);
  const code = Number((data as { error?: { code?: unknown } }).error?.code);
  const status = code >= 400 && code <= 599 ? code : 502;
  return new GatewayError('GH_ERR_UPSTREAM_STATUS', `${provider}: ${parsed.message ?? 'upstream sent an error event'}`, {
    provider, status, upstreamCode: parsed.code ?? null, retryable: status === 429 || status >= 500,
  });
}
