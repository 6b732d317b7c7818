/**
 * A mock Anthropic Messages API on 127.0.0.1 (random port) speaking the real wire format.
 * Use `mock.url` as `network_config.base_url`.
 *
 *   POST /v1/messages   validated as Anthropic does (400 `invalid_request_error` when `anthropic-version`
 *                       or `max_tokens` is missing, a role is not user/assistant, a block type is unknown,
 *                       a text block is empty, a tool_result names no tool_use of the previous assistant
 *                       turn, or temperature is outside 0..1); answers `Echo: <last user text>`
 *                       (`[N image(s)]` appended), `Tool result: <content>` after tool_result blocks, or a
 *                       short text block then a tool_use `{"input": <prompt>}` when the prompt names an
 *                       offered tool or tool_choice is `tool`/`any`. max_tokens below the answer's word
 *                       count → stop_reason `max_tokens`. With `stream: true`: message_start, ping,
 *                       content_block_start/delta/stop (text_delta, input_json_delta), message_delta,
 *                       message_stop (the end marker).
 *   POST /v1/messages/count_tokens   the same checks but no max_tokens (and `stream` refused); answers
 *                       `{"input_tokens": N}`, N = words of the system prompt and every text block, plus 10 per tool.
 * Keys: `x-api-key`; with `keys` set, others get 401 `authentication_error`.
 * Faults (status N answers `{"type":"error","error":{"type","message"}}`, 529 = overloaded_error),
 * recording and socket counting: see mock-server.ts.
 */
import { sse, startMockServer, type Dialect, type MockOptions, type MockUpstream, type RecordedRequest, type Reply } from './mock-server.js';
import { limitWords, mockId, pickTool, pieces, words } from './echo.js';

export type { Fault, MockUpstream, RecordedRequest } from './mock-server.js';

const ERROR_TYPE: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error',
  413: 'request_too_large', 429: 'rate_limit_error', 500: 'api_error', 529: 'overloaded_error',
};

function errorBody(status: number, message?: string, type?: string): unknown {
  const t = type ?? ERROR_TYPE[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  return { type: 'error', error: { type: t, message: message ?? (t === 'overloaded_error' ? 'Overloaded' : `mock error ${status}`) } };
}

function fail(status: number, message: string): Reply {
  return { kind: 'json', status, body: errorBody(status, message) };
}

export async function startAnthropicUpstream(opts: MockOptions = {}): Promise<MockUpstream> {
  const dialect: Dialect = {
    keyOf: (req) => (typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : undefined),
    authError: () => fail(401, 'invalid x-api-key'),
    errorBody,
    errorEvent: (message, type) => sse({ type: 'error', error: { type: type ?? 'overloaded_error', message: message ?? 'Overloaded' } }, 'error'),
    route(rec) {
      const count = rec.path === '/v1/messages/count_tokens';
      if (rec.method !== 'POST' || (rec.path !== '/v1/messages' && !count)) return fail(404, `Not found: ${rec.method} ${rec.path}`);
      if (!rec.headers['anthropic-version']) return fail(400, 'anthropic-version: header is required');
      if (rec.body === undefined) return fail(400, 'There was an issue with the format of your JSON request');
      return count ? countTokens(rec) : messages(rec);
    },
  };
  return startMockServer(dialect, opts);
}

type Block = { type?: string; text?: string; id?: string; tool_use_id?: string; content?: unknown; source?: unknown };
type Msg = { role?: string; content?: string | Block[] };

const BLOCK_TYPES = new Set(['text', 'image', 'document', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking']);

function blocksOf(m: Msg): Block[] {
  return typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : Array.isArray(m.content) ? m.content : [];
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.filter((b) => b?.type === 'text').map((b) => String(b.text)).join(' ');
}

/** The checks Anthropic makes that an OpenAI-to-Anthropic translation most easily gets wrong. */
function validate(b: Record<string, any>, count = false): string | undefined {
  if (typeof b.model !== 'string') return 'model: Field required';
  if (!count && typeof b.max_tokens !== 'number') return 'max_tokens: Field required';
  if (count && (b.max_tokens !== undefined || b.stream !== undefined)) return `${b.stream !== undefined ? 'stream' : 'max_tokens'}: Extra inputs are not permitted`;
  if (!Array.isArray(b.messages) || b.messages.length === 0) return 'messages: at least one message is required';
  if (b.temperature !== undefined && (b.temperature < 0 || b.temperature > 1)) return 'temperature: range: 0..1';
  if (b.system !== undefined && typeof b.system !== 'string' && !Array.isArray(b.system)) return 'system: Input should be a valid string or list';
  let prevToolUses = new Set<string>();
  for (const [i, m] of (b.messages as Msg[]).entries()) {
    if (m.role !== 'user' && m.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    const blocks = blocksOf(m);
    if (typeof m.content !== 'string' && blocks.length === 0) return `messages.${i}: all messages must have non-empty content`;
    for (const blk of blocks) {
      if (!BLOCK_TYPES.has(String(blk.type))) return `messages.${i}.content: unknown block type '${blk.type}'`;
      if (blk.type === 'text' && !blk.text) return `messages.${i}: text content blocks must be non-empty`;
      if (blk.type === 'tool_result' && !prevToolUses.has(String(blk.tool_use_id))) {
        return `messages.${i}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${blk.tool_use_id}`;
      }
    }
    prevToolUses = new Set(blocks.filter((x) => x.type === 'tool_use').map((x) => String(x.id)));
  }
  return undefined;
}

export function messages(rec: RecordedRequest): Reply {
  const b = rec.body as Record<string, any>;
  const invalid = validate(b);
  if (invalid) return fail(400, invalid);
  const msgs = b.messages as Msg[];
  const last = msgs[msgs.length - 1] as Msg;
  const lastBlocks = blocksOf(last);
  const toolResult = lastBlocks.find((x) => x.type === 'tool_result');
  const prompt = textOf(lastBlocks.filter((x) => x.type === 'text'));
  const images = lastBlocks.filter((x) => x.type === 'image').length;
  const names: string[] = Array.isArray(b.tools) ? b.tools.map((t: any) => String(t?.name)) : [];
  const tc = b.tool_choice as { type?: string; name?: string } | undefined;
  const tool = toolResult || tc?.type === 'none' ? undefined : pickTool(names, prompt, tc?.type === 'tool' ? tc.name : undefined, tc?.type === 'any');
  const full = toolResult ? `Tool result: ${textOf(toolResult.content)}` : `Echo: ${prompt}${images ? ` [${images} image(s)]` : ''}`;
  const limited = limitWords(full, b.max_tokens);
  const stop = tool ? 'tool_use' : limited.cut ? 'max_tokens' : 'end_turn';
  const input = { input: prompt };
  const usage = { input_tokens: msgs.reduce((n, m) => n + words(textOf(blocksOf(m))), 0) + words(typeof b.system === 'string' ? b.system : ''), output_tokens: words(limited.text) };
  const id = mockId('msg_');
  const toolId = mockId('toolu_');
  const lead = 'Calling a tool.';

  if (b.stream !== true) {
    const content = tool
      ? [{ type: 'text', text: lead }, { type: 'tool_use', id: toolId, name: tool, input }]
      : [{ type: 'text', text: limited.text }];
    return { kind: 'json', body: { id, type: 'message', role: 'assistant', model: b.model, content, stop_reason: stop, stop_sequence: null, usage } };
  }
  const events = [
    sse({ type: 'message_start', message: { id, type: 'message', role: 'assistant', model: b.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: usage.input_tokens, output_tokens: 1 } } }, 'message_start'),
    sse({ type: 'ping' }, 'ping'),
  ];
  const textBlock = (index: number, text: string): void => {
    events.push(sse({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }, 'content_block_start'));
    for (const piece of pieces(text)) events.push(sse({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } }, 'content_block_delta'));
    events.push(sse({ type: 'content_block_stop', index }, 'content_block_stop'));
  };
  if (tool) {
    textBlock(0, lead);
    const json = JSON.stringify(input);
    events.push(sse({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: toolId, name: tool, input: {} } }, 'content_block_start'));
    for (const part of [json.slice(0, 5), json.slice(5)]) events.push(sse({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: part } }, 'content_block_delta'));
    events.push(sse({ type: 'content_block_stop', index: 1 }, 'content_block_stop'));
  } else {
    textBlock(0, limited.text);
  }
  events.push(sse({ type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }, 'message_delta'));
  events.push(sse({ type: 'message_stop' }, 'message_stop'));
  return { kind: 'sse', events, endMarkers: 1 };
}

function countTokens(rec: RecordedRequest): Reply {
  const b = rec.body as Record<string, any>;
  const invalid = validate(b, true);
  if (invalid) return fail(400, invalid);
  const system = typeof b.system === 'string' ? b.system : textOf(b.system);
  const n = (b.messages as Msg[]).reduce((acc, m) => acc + words(textOf(blocksOf(m))), 0) + words(system) + 10 * (Array.isArray(b.tools) ? b.tools.length : 0);
  return { kind: 'json', body: { input_tokens: n } };
}
