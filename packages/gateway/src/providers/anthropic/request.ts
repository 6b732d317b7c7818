import type { ChatMessage, ContentPart } from '../../schema/openai.js';
import { chatMessages, type LLMRequest } from '../../schema/request.js';
import { contentParts, contentText, imageUrlOf, parseDataUrl, parseToolArguments } from '../translate/messages.js';
import { jsonFormat, maxTokens, numberParam, stopSequences } from '../translate/params.js';
import { functionTools, toolChoice } from '../translate/tools.js';

/**
 * OpenAI chat request → Anthropic Messages request body.
 * Anthropic keeps the system prompt outside the messages, wants tool calls and tool results as
 * content blocks, and requires `max_tokens`.
 */

/** Anthropic refuses a request without `max_tokens`; OpenAI clients rarely send one. */
export const DEFAULT_MAX_TOKENS = 4096;

type Block = Record<string, unknown>;
interface AnthropicMessage { role: 'user' | 'assistant'; content: Block[] }

export function anthropicBody(req: LLMRequest): Record<string, unknown> {
  const p = req.params;
  const { system, messages } = toAnthropicMessages(chatMessages(req));
  const json = jsonFormat(p);
  if (json) system.push(jsonInstruction(json.kind === 'json_schema' ? json.schema : undefined));

  const body: Record<string, unknown> = { model: req.model, max_tokens: maxTokens(p) ?? DEFAULT_MAX_TOKENS, messages };
  if (system.length === 1) body.system = system[0];
  else if (system.length > 1) body.system = system.map((text) => ({ type: 'text', text }));

  // Anthropic's temperature range is 0..1 where OpenAI's is 0..2.
  const temperature = numberParam(p, 'temperature');
  if (temperature !== undefined) body.temperature = Math.min(1, Math.max(0, temperature));
  const topP = numberParam(p, 'top_p');
  if (topP !== undefined) body.top_p = topP;
  const topK = numberParam(p, 'top_k');
  if (topK !== undefined) body.top_k = topK;
  const stop = stopSequences(p);
  if (stop) body.stop_sequences = stop;
  if (p.stream === true) body.stream = true;
  if (typeof p.user === 'string') body.metadata = { user_id: p.user };

  const tools = functionTools(p);
  if (tools.length > 0) {
    body.tools = tools.map((t) => ({
      name: t.name,
      ...(t.description !== undefined ? { description: t.description } : {}),
      input_schema: t.parameters ?? { type: 'object', properties: {} },
    }));
    const choice = anthropicToolChoice(p);
    if (choice) body.tool_choice = choice;
  }
  return body;
}

function anthropicToolChoice(p: Record<string, unknown>): Block | undefined {
  const choice = toolChoice(p);
  const serial = p.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  switch (choice?.mode) {
    case undefined:
      return p.parallel_tool_calls === false ? { type: 'auto', ...serial } : undefined;
    case 'none':
      return { type: 'none' };
    case 'auto':
      return { type: 'auto', ...serial };
    case 'required':
      return { type: 'any', ...serial };
    case 'tool':
      return { type: 'tool', name: choice.name, ...serial };
  }
}

/** Anthropic has no JSON mode: the closest is asking for it in the system prompt. */
function jsonInstruction(schema: Record<string, unknown> | undefined): string {
  const base = 'Respond only with a valid JSON object, without any text before or after it.';
  return schema ? `${base} The JSON must match this JSON Schema: ${JSON.stringify(schema)}` : base;
}

/**
 * System and developer messages become the system prompt; `tool` messages become `tool_result`
 * blocks of a user turn. Consecutive turns of one role are merged, so parallel tool results
 * land in one user message, as Anthropic expects.
 */
export function toAnthropicMessages(input: ChatMessage[]): { system: string[]; messages: AnthropicMessage[] } {
  const system: string[] = [];
  const messages: AnthropicMessage[] = [];
  const push = (role: AnthropicMessage['role'], blocks: Block[]): void => {
    if (blocks.length === 0) return;
    const last = messages[messages.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  for (const m of input) {
    if (m.role === 'system' || m.role === 'developer') {
      const text = contentText(m.content);
      if (text) system.push(text);
    } else if (m.role === 'assistant') {
      push('assistant', assistantBlocks(m));
    } else if (m.role === 'tool') {
      push('user', [toolResultBlock(m)]);
    } else {
      push('user', contentParts(m.content).map(partBlock).filter((b): b is Block => b !== null));
    }
  }
  return { system, messages };
}

function assistantBlocks(m: ChatMessage): Block[] {
  const blocks = contentParts(m.content).map(partBlock).filter((b): b is Block => b !== null);
  for (const call of m.tool_calls ?? []) {
    blocks.push({ type: 'tool_use', id: call.id, name: call.function?.name, input: parseToolArguments(call.function?.arguments) });
  }
  return blocks;
}

function toolResultBlock(m: ChatMessage): Block {
  const block: Block = { type: 'tool_result', tool_use_id: m.tool_call_id ?? '' };
  if (typeof m.content === 'string') block.content = m.content;
  else block.content = contentParts(m.content).map(partBlock).filter((b): b is Block => b !== null);
  return block;
}

/** One OpenAI content part → one Anthropic block; parts with no equivalent (audio) are dropped. */
function partBlock(part: ContentPart): Block | null {
  if (part.type === 'text') {
    const text = (part as { text?: unknown }).text;
    // Anthropic rejects empty text blocks.
    return typeof text === 'string' && text.length > 0 ? { type: 'text', text } : null;
  }
  const url = imageUrlOf(part);
  if (url === undefined) return null;
  const inline = parseDataUrl(url);
  const source = inline
    ? { type: 'base64', media_type: inline.mimeType, data: inline.data }
    : { type: 'url', url };
  return { type: 'image', source };
}
