import { GatewayError } from '../../schema/errors.js';
import type { ChatMessage, ContentPart } from '../../schema/openai.js';
import { chatMessages, type LLMRequest } from '../../schema/request.js';
import { contentParts, contentText, imageUrlOf, parseDataUrl, parseToolArguments } from '../translate/messages.js';
import { jsonFormat, maxTokens, numberParam, stopSequences } from '../translate/params.js';
import { functionTools, toolChoice } from '../translate/tools.js';

/**
 * OpenAI chat request → Bedrock Converse body. Converse keeps the system prompt in `system`,
 * wants images as bytes (base64 in JSON) with a format name, tool calls as `toolUse` blocks and
 * tool results as `toolResult` blocks of a user turn, and alternating user/assistant turns.
 */
type Block = Record<string, unknown>;
interface Message { role: 'user' | 'assistant'; content: Block[] }

const IMAGE_FORMATS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/jpg': 'jpeg', 'image/gif': 'gif', 'image/webp': 'webp' };

export function converseBody(req: LLMRequest, provider: string): Record<string, unknown> {
  const p = req.params;
  const { system, messages } = toConverseMessages(chatMessages(req), provider);
  const json = jsonFormat(p);
  // Converse has no JSON mode: the closest is asking for it in the system prompt.
  if (json) system.push({ text: json.kind === 'json_schema' && json.schema ? `Respond only with a JSON object matching this JSON Schema: ${JSON.stringify(json.schema)}` : 'Respond only with a valid JSON object.' });

  const body: Record<string, unknown> = { messages };
  if (system.length > 0) body.system = system;
  const inference: Record<string, unknown> = {};
  const set = (k: string, v: unknown): void => { if (v !== undefined) inference[k] = v; };
  set('maxTokens', maxTokens(p));
  set('temperature', numberParam(p, 'temperature'));
  set('topP', numberParam(p, 'top_p'));
  set('stopSequences', stopSequences(p));
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;
  const topK = numberParam(p, 'top_k');
  if (topK !== undefined) body.additionalModelRequestFields = { top_k: topK };

  const tools = functionTools(p);
  const choice = toolChoice(p);
  // Converse has no "none": leaving the tools out is how a call is prevented.
  if (tools.length > 0 && choice?.mode !== 'none') {
    const config: Record<string, unknown> = {
      tools: tools.map((t) => ({
        toolSpec: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), inputSchema: { json: t.parameters ?? { type: 'object', properties: {} } } },
      })),
    };
    if (choice?.mode === 'auto') config.toolChoice = { auto: {} };
    else if (choice?.mode === 'required') config.toolChoice = { any: {} };
    else if (choice?.mode === 'tool') config.toolChoice = { tool: { name: choice.name } };
    body.toolConfig = config;
  }
  return body;
}

export function toConverseMessages(input: ChatMessage[], provider: string): { system: Block[]; messages: Message[] } {
  const system: Block[] = [];
  const messages: Message[] = [];
  const push = (role: Message['role'], blocks: Block[]): void => {
    if (blocks.length === 0) return;
    const last = messages[messages.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  for (const m of input) {
    if (m.role === 'system' || m.role === 'developer') {
      const text = contentText(m.content);
      if (text) system.push({ text });
    } else if (m.role === 'assistant') {
      const blocks = contentParts(m.content).map((part) => partBlock(part, provider)).filter((b): b is Block => b !== null);
      for (const call of m.tool_calls ?? []) {
        blocks.push({ toolUse: { toolUseId: call.id, name: call.function?.name, input: parseToolArguments(call.function?.arguments) } });
      }
      push('assistant', blocks);
    } else if (m.role === 'tool') {
      push('user', [toolResultBlock(m)]);
    } else {
      push('user', contentParts(m.content).map((part) => partBlock(part, provider)).filter((b): b is Block => b !== null));
    }
  }
  return { system, messages };
}

/** A tool result is JSON when it parses as an object, text otherwise. */
function toolResultBlock(m: ChatMessage): Block {
  const text = typeof m.content === 'string' ? m.content : contentText(m.content);
  let content: Block[] = [{ text }];
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) content = [{ json: v }];
  } catch {
    /* plain text result */
  }
  return { toolResult: { toolUseId: m.tool_call_id ?? '', content } };
}

function partBlock(part: ContentPart, provider: string): Block | null {
  if (part.type === 'text') {
    const text = (part as { text?: unknown }).text;
    return typeof text === 'string' && text.length > 0 ? { text } : null;
  }
  const url = imageUrlOf(part);
  if (url === undefined) return null;
  const inline = parseDataUrl(url);
  const format = inline ? IMAGE_FORMATS[inline.mimeType.toLowerCase()] : undefined;
  if (!inline || !format) {
    // Converse takes image bytes (or an S3 location), not web links; fetching for the client is SSRF-prone.
    throw new GatewayError('GH_ERR_INVALID_REQUEST', `${provider}: images must be data: URLs (png, jpeg, gif or webp); Bedrock does not fetch links`, { provider, param: 'messages' });
  }
  return { image: { format, source: { bytes: inline.data } } };
}
