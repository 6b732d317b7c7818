import type { ChatMessage, ContentPart, ToolCall } from '../../../schema/openai.js';
import { invalid } from '../body-json.js';

/**
 * Anthropic Messages request → the internal (OpenAI chat) request: the system prompt becomes a
 * system message, `tool_use` blocks assistant tool calls, `tool_result` blocks `tool` messages,
 * images image parts (data URLs for base64 sources). Fields with an OpenAI equivalent are
 * renamed; the rest go on in `params` for an Anthropic upstream to read.
 */
type Block = Record<string, unknown> & { type?: unknown };

export function anthropicToChat(body: Record<string, unknown>): { messages: ChatMessage[]; params: Record<string, unknown> } {
  const { model: _m, messages: raw, system, max_tokens, stop_sequences, tools, tool_choice, metadata, stream, fallbacks: _f, ...rest } = body;
  if (!Array.isArray(raw) || raw.length === 0) throw invalid(`'messages' is required: a non-empty array of messages`, 'messages');
  const messages: ChatMessage[] = [];
  const sys = systemText(system);
  if (sys) messages.push({ role: 'system', content: sys });
  raw.forEach((m, i) => pushMessage(messages, m, i));

  const params: Record<string, unknown> = { ...rest };
  if (max_tokens !== undefined) {
    if (typeof max_tokens !== 'number' || !Number.isInteger(max_tokens) || max_tokens < 1) throw invalid(`'max_tokens' must be a positive integer`, 'max_tokens');
    params.max_tokens = max_tokens;
  }
  if (stop_sequences !== undefined) params.stop = stop_sequences;
  if (stream !== undefined) {
    if (typeof stream !== 'boolean') throw invalid(`'stream' must be a boolean`, 'stream');
    if (stream) {
      params.stream = true;
      // message_delta carries the output usage: ask every provider for it.
      params.stream_options = { include_usage: true };
    }
  }
  const userId = (metadata as { user_id?: unknown } | undefined)?.user_id;
  if (typeof userId === 'string') params.user = userId;
  if (tools !== undefined) params.tools = toolsOf(tools);
  const choice = toolChoiceOf(tool_choice);
  if (choice) Object.assign(params, choice);
  // Extended thinking has no chat equivalent (it survives on the pass-through path only).
  delete params.thinking;
  return { messages, params };
}

function systemText(system: unknown): string {
  if (system === undefined || system === null) return '';
  if (typeof system === 'string') return system;
  if (Array.isArray(system)) return system.map((b) => (typeof (b as Block)?.text === 'string' ? (b as { text: string }).text : '')).filter(Boolean).join('\n');
  throw invalid(`'system' must be a string or an array of text blocks`, 'system');
}

function pushMessage(out: ChatMessage[], m: unknown, i: number): void {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw invalid(`'messages[${i}]' must be an object`, `messages[${i}]`);
  const { role, content } = m as { role?: unknown; content?: unknown };
  if (role !== 'user' && role !== 'assistant') throw invalid(`'messages[${i}].role' must be "user" or "assistant"`, `messages[${i}].role`);
  if (typeof content === 'string') {
    out.push({ role, content });
    return;
  }
  if (!Array.isArray(content)) throw invalid(`'messages[${i}].content' must be a string or an array of content blocks`, `messages[${i}].content`);
  const parts: ContentPart[] = [];
  const calls: ToolCall[] = [];
  for (const [j, b] of (content as Block[]).entries()) {
    if (typeof b !== 'object' || b === null) throw invalid(`'messages[${i}].content[${j}]' must be an object`, `messages[${i}].content[${j}]`);
    switch (b.type) {
      case 'text':
        if (typeof b.text === 'string') parts.push({ type: 'text', text: b.text });
        break;
      case 'image': {
        const url = imageUrl(b.source);
        if (url) parts.push({ type: 'image_url', image_url: { url } });
        break;
      }
      case 'tool_use':
        calls.push({ id: String(b.id ?? ''), type: 'function', function: { name: String(b.name ?? ''), arguments: JSON.stringify(b.input ?? {}) } });
        break;
      case 'tool_result':
        // Tool results precede the rest of the user's turn in OpenAI's order too.
        out.push({ role: 'tool', tool_call_id: String(b.tool_use_id ?? ''), content: toolResultText(b) });
        break;
      default:
        break; // thinking, redacted_thinking, documents: no chat equivalent
    }
  }
  if (role === 'assistant') {
    const text = parts.filter((p) => p.type === 'text').map((p) => (p as { text: string }).text).join('');
    const msg: ChatMessage = { role: 'assistant', content: text.length > 0 || calls.length === 0 ? text : null };
    if (calls.length > 0) msg.tool_calls = calls;
    out.push(msg);
  } else if (parts.length > 0) {
    out.push({ role: 'user', content: parts.length === 1 && parts[0]!.type === 'text' ? (parts[0] as { text: string }).text : parts });
  }
}

function imageUrl(source: unknown): string | undefined {
  const s = source as { type?: unknown; media_type?: unknown; data?: unknown; url?: unknown } | undefined;
  if (s?.type === 'base64' && typeof s.data === 'string') return `data:${typeof s.media_type === 'string' ? s.media_type : 'image/png'};base64,${s.data}`;
  if (s?.type === 'url' && typeof s.url === 'string') return s.url;
  return undefined;
}

function toolResultText(b: Block): string {
  const c = b.content;
  const text = typeof c === 'string' ? c : Array.isArray(c) ? c.map((x) => (typeof (x as Block)?.text === 'string' ? (x as { text: string }).text : '')).join('') : '';
  return b.is_error === true ? `Error: ${text}` : text;
}

/** Custom tools become function tools; server tools (web search, ...) go on as they are. */
function toolsOf(tools: unknown): unknown[] {
  if (!Array.isArray(tools)) throw invalid(`'tools' must be an array`, 'tools');
  return tools.map((t, i) => {
    const tool = t as { type?: unknown; name?: unknown; description?: unknown; input_schema?: unknown } | null;
    if (typeof tool !== 'object' || tool === null || typeof tool.name !== 'string') throw invalid(`'tools[${i}].name' must be a string`, `tools[${i}].name`);
    if (tool.type !== undefined && tool.type !== 'custom') return tool;
    const fn: Record<string, unknown> = { name: tool.name, parameters: tool.input_schema ?? { type: 'object', properties: {} } };
    if (typeof tool.description === 'string') fn.description = tool.description;
    return { type: 'function', function: fn };
  });
}

function toolChoiceOf(tc: unknown): Record<string, unknown> | undefined {
  if (tc === undefined || tc === null) return undefined;
  const c = tc as { type?: unknown; name?: unknown; disable_parallel_tool_use?: unknown };
  const out: Record<string, unknown> = {};
  switch (c.type) {
    case 'auto': out.tool_choice = 'auto'; break;
    case 'any': out.tool_choice = 'required'; break;
    case 'none': out.tool_choice = 'none'; break;
    case 'tool': out.tool_choice = { type: 'function', function: { name: String(c.name ?? '') } }; break;
    default: throw invalid(`'tool_choice.type' must be "auto", "any", "tool" or "none"`, 'tool_choice');
  }
  if (c.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
  return out;
}
