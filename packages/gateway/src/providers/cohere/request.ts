import type { ChatMessage, ContentPart } from '../../schema/openai.js';
import { chatMessages, type LLMRequest } from '../../schema/request.js';
import { contentParts, contentText, imageUrlOf } from '../translate/messages.js';
import { jsonFormat, maxTokens, numberParam, stopSequences } from '../translate/params.js';
import { functionTools, toolChoice } from '../translate/tools.js';

/**
 * OpenAI chat request → Cohere v2 `/v2/chat` body. v2 messages are close to OpenAI's (system,
 * user, assistant with tool_calls, tool with tool_call_id); the sampling fields are renamed
 * (`p`, `k`, `stop_sequences`) and tool_choice only knows REQUIRED and NONE.
 */
export function cohereChatBody(req: LLMRequest): Record<string, unknown> {
  const p = req.params;
  const body: Record<string, unknown> = { model: req.model, messages: chatMessages(req).map(cohereMessage) };
  const set = (k: string, v: unknown): void => { if (v !== undefined) body[k] = v; };
  set('max_tokens', maxTokens(p));
  set('temperature', numberParam(p, 'temperature'));
  set('p', numberParam(p, 'top_p'));
  set('k', numberParam(p, 'top_k'));
  set('stop_sequences', stopSequences(p));
  set('seed', numberParam(p, 'seed'));
  set('frequency_penalty', numberParam(p, 'frequency_penalty'));
  set('presence_penalty', numberParam(p, 'presence_penalty'));
  if (p.stream === true) body.stream = true;
  const json = jsonFormat(p);
  if (json) body.response_format = json.kind === 'json_schema' && json.schema ? { type: 'json_object', json_schema: json.schema } : { type: 'json_object' };
  const tools = functionTools(p);
  if (tools.length > 0) {
    body.tools = tools.map((t) => ({
      type: 'function',
      function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.parameters ?? { type: 'object', properties: {} } },
    }));
    const choice = toolChoice(p);
    // Cohere has no "call this one function": REQUIRED is the nearest, with the tools narrowed to it.
    if (choice?.mode === 'required') body.tool_choice = 'REQUIRED';
    else if (choice?.mode === 'none') body.tool_choice = 'NONE';
    else if (choice?.mode === 'tool') {
      body.tool_choice = 'REQUIRED';
      body.tools = (body.tools as Array<{ function: { name: string } }>).filter((t) => t.function.name === choice.name);
    }
  }
  return body;
}

function cohereMessage(m: ChatMessage): Record<string, unknown> {
  const role = m.role === 'developer' ? 'system' : m.role;
  if (role === 'tool') return { role: 'tool', tool_call_id: m.tool_call_id ?? '', content: typeof m.content === 'string' ? m.content : contentText(m.content) };
  if (role === 'assistant') {
    const out: Record<string, unknown> = { role: 'assistant' };
    const text = contentText(m.content);
    if (m.tool_calls?.length) {
      out.tool_calls = m.tool_calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.function.name, arguments: c.function.arguments } }));
      if (text) out.tool_plan = text;
    } else {
      out.content = text;
    }
    return out;
  }
  if (role === 'user' && Array.isArray(m.content)) return { role, content: contentParts(m.content).map(cohereContent).filter((x) => x !== null) };
  return { role, content: typeof m.content === 'string' ? m.content : contentText(m.content) };
}

function cohereContent(part: ContentPart): Record<string, unknown> | null {
  if (part.type === 'text') {
    const text = (part as { text?: unknown }).text;
    return typeof text === 'string' ? { type: 'text', text } : null;
  }
  const url = imageUrlOf(part);
  return url === undefined ? null : { type: 'image_url', image_url: { url } };
}
