import { GatewayError } from '../../schema/errors.js';
import type { StreamChunk } from '../../schema/stream.js';
import type { UpstreamResponse } from '../upstream-client.js';
import { ChunkBuilder, randomId } from '../translate/chunks.js';
import { eventStreamMessages } from './eventstream.js';
import { bedrockFinishReason, converseUsage, type ConverseUsage } from './response.js';

/**
 * ConverseStream events → OpenAI `chat.completion.chunk` events:
 *   messageStart       → the role chunk
 *   contentBlockStart  → a tool call's id and name (toolUse)
 *   contentBlockDelta  → text, or a tool call's argument fragment (toolUse.input)
 *   messageStop        → the chunk with finish_reason
 *   metadata           → the usage chunk (when asked for); it is the last event
 * Exceptions (throttlingException, validationException, ...) throw with the status AWS gives
 * them. A stream that ends before messageStop was cut off.
 */
const STATUS_BY_EXCEPTION: Record<string, number> = {
  throttlingException: 429, validationException: 400, accessDeniedException: 403,
  serviceUnavailableException: 503, internalServerException: 500, modelStreamErrorException: 424, modelTimeoutException: 408,
};

const decoder = new TextDecoder();

export async function* converseStream(res: UpstreamResponse, provider: string, model: string, withUsage: boolean): AsyncGenerator<StreamChunk> {
  const out = new ChunkBuilder(randomId('chatcmpl-'), model);
  const toolIndex = new Map<number, number>();
  let stopped = false;
  let usage: ConverseUsage | undefined;
  const ctl = { atEnd: false };
  for await (const msg of eventStreamMessages(res.body, provider, ctl)) {
    if (msg.kind !== 'event') throw streamError(msg.kind === 'error' ? msg.name : msg.name, msg.errorMessage ?? messageOf(msg.payload), provider);
    const data = parse(msg.payload, provider);
    switch (msg.name) {
      case 'messageStart':
        yield out.delta({ role: 'assistant', content: '' });
        break;
      case 'contentBlockStart': {
        const tool = (data.start as { toolUse?: { toolUseId?: string; name?: string } } | undefined)?.toolUse;
        if (tool) {
          const i = toolIndex.size;
          toolIndex.set(Number(data.contentBlockIndex), i);
          yield out.delta({ tool_calls: [{ index: i, id: tool.toolUseId ?? randomId('call_'), type: 'function', function: { name: tool.name ?? '', arguments: '' } }] });
        }
        break;
      }
      case 'contentBlockDelta': {
        const delta = (data.delta ?? {}) as { text?: string; toolUse?: { input?: string } };
        if (typeof delta.text === 'string' && delta.text) yield out.delta({ content: delta.text });
        else if (delta.toolUse && typeof delta.toolUse.input === 'string') {
          const i = toolIndex.get(Number(data.contentBlockIndex));
          if (i !== undefined) yield out.delta({ tool_calls: [{ index: i, function: { arguments: delta.toolUse.input } }] });
        }
        break;
      }
      case 'messageStop':
        stopped = true;
        yield out.delta({}, bedrockFinishReason(data.stopReason) ?? 'stop');
        break;
      case 'metadata':
        usage = data.usage as ConverseUsage | undefined;
        ctl.atEnd = true;
        if (stopped) {
          if (withUsage) yield out.usage(converseUsage(usage));
          return;
        }
        break;
      default:
        break; // contentBlockStop, and event types added later
    }
  }
  if (!stopped) throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${provider}: stream ended before messageStop`, { provider, retryable: true });
  if (withUsage) yield out.usage(converseUsage(usage));
}

function parse(payload: Uint8Array, provider: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(decoder.decode(payload));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${provider}: stream event is not valid JSON`, { provider, retryable: true });
}

function messageOf(payload: Uint8Array): string | undefined {
  try {
    const v = JSON.parse(decoder.decode(payload)) as { message?: unknown; Message?: unknown };
    const m = v.message ?? v.Message;
    return typeof m === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

function streamError(name: string, message: string | undefined, provider: string): GatewayError {
  const key = name.charAt(0).toLowerCase() + name.slice(1);
  const status = STATUS_BY_EXCEPTION[key] ?? 502;
  return new GatewayError('GH_ERR_UPSTREAM_STATUS', `${provider}: ${message ?? `upstream sent ${name || 'an error'}`}`, {
    provider, status, upstreamCode: name || null, retryable: status === 429 || status >= 500,
  });
}
