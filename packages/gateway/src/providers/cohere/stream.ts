import { GatewayError } from '../../schema/errors.js';
import type { StreamChunk } from '../../schema/stream.js';
import type { UpstreamResponse } from '../upstream-client.js';
import { ChunkBuilder, randomId } from '../translate/chunks.js';
import { sseEvents } from '../translate/sse-parse.js';
import { cohereFinishReason, cohereUsage, type CohereUsage } from './response.js';

/**
 * Cohere v2 chat stream (SSE, one JSON object per event, `type` naming it) → OpenAI chunks:
 *   message-start      → the role chunk
 *   content-delta      → text
 *   tool-call-start    → a tool call's id, name and first argument text
 *   tool-call-delta    → argument fragments
 *   message-end        → finish_reason, then usage (when asked for); the end marker
 * tool-plan-delta (the model's plan before calling tools), content-start/-end and citation
 * events carry nothing an OpenAI client reads. A body that ends before message-end was cut off.
 */
export async function* cohereStream(res: UpstreamResponse, provider: string, model: string, withUsage: boolean): AsyncGenerator<StreamChunk> {
  const out = new ChunkBuilder(randomId('chatcmpl-'), model);
  const toolIndex = new Map<number, number>();
  const ctl = { atEnd: false };
  for await (const ev of sseEvents(res.body, provider, ctl)) {
    if (ev.data.length === 0 || ev.data === '[DONE]') continue;
    const data = parse(ev.data, provider);
    const delta = (data.delta ?? {}) as { message?: Record<string, any>; finish_reason?: string; usage?: CohereUsage; error?: string };
    switch (data.type ?? ev.event) {
      case 'message-start':
        if (typeof data.id === 'string') out.id = data.id;
        yield out.delta({ role: 'assistant', content: '' });
        break;
      case 'content-delta': {
        const text = delta.message?.content?.text;
        if (typeof text === 'string' && text) yield out.delta({ content: text });
        break;
      }
      case 'tool-call-start': {
        const call = delta.message?.tool_calls ?? {};
        const i = toolIndex.size;
        toolIndex.set(Number(data.index ?? i), i);
        yield out.delta({ tool_calls: [{ index: i, id: call.id ?? randomId('call_'), type: 'function', function: { name: call.function?.name ?? '', arguments: call.function?.arguments ?? '' } }] });
        break;
      }
      case 'tool-call-delta': {
        const args = delta.message?.tool_calls?.function?.arguments;
        const i = toolIndex.get(Number(data.index ?? 0));
        if (typeof args === 'string' && args && i !== undefined) yield out.delta({ tool_calls: [{ index: i, function: { arguments: args } }] });
        break;
      }
      case 'message-end': {
        ctl.atEnd = true;
        if (delta.finish_reason === 'ERROR') {
          throw new GatewayError('GH_ERR_UPSTREAM_STATUS', `${provider}: ${delta.error ?? 'the model stopped with an error'}`, { provider, status: 502, retryable: true });
        }
        yield out.delta({}, cohereFinishReason(delta.finish_reason) ?? 'stop');
        if (withUsage) yield out.usage(cohereUsage(delta.usage));
        return;
      }
      default:
        break;
    }
  }
  throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${provider}: stream ended before message-end`, { provider, retryable: true });
}

function parse(data: string, provider: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(data);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${provider}: stream event is not valid JSON`, { provider, retryable: true });
}
