import { GatewayError } from '../../schema/errors.js';
import type { StreamChunk } from '../../schema/stream.js';
import type { UpstreamResponse } from '../upstream-client.js';
import { ChunkBuilder } from '../translate/chunks.js';
import { anthropicFinishReason } from '../translate/finish-reason.js';
import { sseEvents } from '../translate/sse-parse.js';
import { anthropicUsage, type AnthropicUsage } from './response.js';

/**
 * Anthropic SSE events → OpenAI `chat.completion.chunk` events:
 *   message_start        → the role chunk
 *   content_block_start  → a tool call's id and name (tool_use), or leading text
 *   content_block_delta  → content (text_delta) or argument fragments (input_json_delta)
 *   message_delta        → the chunk with finish_reason
 *   message_stop         → the usage chunk (when asked for), then the end
 * `ping` is ignored; `error` throws. A body that ends before `message_stop` was cut off.
 */
export async function* anthropicStream(
  res: UpstreamResponse, provider: string, model: string, withUsage: boolean,
): AsyncGenerator<StreamChunk> {
  const out = new ChunkBuilder('', model);
  // Anthropic numbers all content blocks; OpenAI numbers tool calls only.
  const toolIndex = new Map<number, number>();
  let usage: AnthropicUsage = {};
  let outputTokens = 0;
  let finished = false;

  const ctl = { atEnd: false };
  for await (const ev of sseEvents(res.body, provider, ctl, res.limits.maxEventBytes)) {
    if (ev.data.length === 0) continue;
    const data = parseEvent(ev.data, provider);
    const type = typeof data.type === 'string' ? data.type : ev.event;
    switch (type) {
      case 'message_start': {
        const msg = (data.message ?? {}) as { id?: string; model?: string; usage?: AnthropicUsage };
        out.id = msg.id ?? out.id;
        out.model = msg.model ?? out.model;
        usage = msg.usage ?? {};
        outputTokens = usage.output_tokens ?? 0;
        yield out.delta({ role: 'assistant', content: '' });
        break;
      }
      case 'content_block_start': {
        const index = Number(data.index);
        const block = (data.content_block ?? {}) as { type?: string; text?: string; id?: string; name?: string };
        if (block.type === 'tool_use') {
          const i = toolIndex.size;
          toolIndex.set(index, i);
          yield out.delta({ tool_calls: [{ index: i, id: block.id ?? '', type: 'function', function: { name: block.name ?? '', arguments: '' } }] });
        } else if (block.type === 'text' && block.text) {
          yield out.delta({ content: block.text });
        }
        break;
      }
      case 'content_block_delta': {
        const delta = (data.delta ?? {}) as { type?: string; text?: string; partial_json?: string };
        if (delta.type === 'text_delta' && delta.text) yield out.delta({ content: delta.text });
        else if (delta.type === 'input_json_delta' && delta.partial_json) {
          const i = toolIndex.get(Number(data.index));
          if (i !== undefined) yield out.delta({ tool_calls: [{ index: i, function: { arguments: delta.partial_json } }] });
        }
        break;
      }
      case 'message_delta': {
        const delta = (data.delta ?? {}) as { stop_reason?: string | null };
        const u = (data.usage ?? {}) as AnthropicUsage;
        // message_delta usage is cumulative; newer API versions repeat the input counts there too.
        if (typeof u.output_tokens === 'number') outputTokens = u.output_tokens;
        usage = { ...usage, ...definedOnly(u) };
        yield out.delta({}, anthropicFinishReason(delta.stop_reason) ?? 'stop');
        break;
      }
      case 'message_stop':
        finished = true;
        ctl.atEnd = true;
        if (withUsage) yield out.usage(anthropicUsage(usage, outputTokens));
        return;
      case 'error':
        throw streamError(data, provider);
      default:
        break; // ping, content_block_stop, and event types added later
    }
  }
  if (!finished) {
    throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${provider}: stream ended before message_stop`, { provider, retryable: true });
  }
}

function parseEvent(data: string, provider: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(data);
    if (v && typeof v === 'object') return v as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${provider}: stream event is not valid JSON`, { provider, retryable: true });
}

function definedOnly(u: AnthropicUsage): AnthropicUsage {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(u)) if (v !== null && v !== undefined) out[k] = v;
  return out as AnthropicUsage;
}

/** The HTTP status Anthropic would have answered with, for an error sent inside a 200 stream. */
const STATUS_BY_TYPE: Record<string, number> = {
  invalid_request_error: 400, authentication_error: 401, permission_error: 403, not_found_error: 404,
  request_too_large: 413, rate_limit_error: 429, api_error: 500, overloaded_error: 529,
};

function streamError(data: Record<string, unknown>, provider: string): GatewayError {
  const err = (data.error ?? {}) as { type?: string; message?: string };
  const type = err.type ?? 'api_error';
  const status = STATUS_BY_TYPE[type] ?? 502;
  return new GatewayError('GH_ERR_UPSTREAM_STATUS', `${provider}: ${err.message ?? 'upstream sent an error event'}`, {
    provider, status, type, upstreamCode: type, retryable: status === 429 || status >= 500,
  });
}
