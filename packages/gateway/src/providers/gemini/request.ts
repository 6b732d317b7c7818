import type { ChatMessage, ContentPart } from '../../schema/openai.js';
import { chatMessages, type LLMRequest } from '../../schema/request.js';
import { contentParts, contentText, imageUrlOf, mimeFromUrl, parseDataUrl, parseToolArguments } from '../translate/messages.js';
import { jsonFormat, maxTokens, numberParam, stopSequences } from '../translate/params.js';
import { functionTools, toolChoice } from '../translate/tools.js';
import { geminiSchema, hasProperties } from './schema.js';

/**
 * OpenAI chat request → Gemini `generateContent` body. Gemini calls the assistant `model`, keeps
 * the system prompt in `systemInstruction`, and names a function result by the function's name
 * (OpenAI names it by the call id, so the name is looked up from the earlier assistant turn).
 */
type Part = Record<string, unknown>;
interface Content { role: 'user' | 'model'; parts: Part[] }

export function geminiBody(req: LLMRequest): Record<string, unknown> {
  const p = req.params;
  const { system, contents } = toGeminiContents(chatMessages(req));
  const body: Record<string, unknown> = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system.map((text) => ({ text })) };
  const config = generationConfig(p);
  if (Object.keys(config).length > 0) body.generationConfig = config;

  const tools = functionTools(p);
  if (tools.length > 0) {
    body.tools = [{
      functionDeclarations: tools.map((t) => {
        const decl: Record<string, unknown> = { name: t.name };
        if (t.description !== undefined) decl.description = t.description;
        const params = geminiSchema(t.parameters);
        if (t.parameters && hasProperties(params)) decl.parameters = params;
        return decl;
      }),
    }];
    const choice = toolChoice(p);
    if (choice) {
      const mode = choice.mode === 'none' ? 'NONE' : choice.mode === 'auto' ? 'AUTO' : 'ANY';
      const fc: Record<string, unknown> = { mode };
      if (choice.mode === 'tool') fc.allowedFunctionNames = [choice.name];
      body.toolConfig = { functionCallingConfig: fc };
    }
  }
  return body;
}

function generationConfig(p: Record<string, unknown>): Record<string, unknown> {
  const c: Record<string, unknown> = {};
  const set = (key: string, v: unknown): void => { if (v !== undefined) c[key] = v; };
  set('temperature', numberParam(p, 'temperature'));
  set('topP', numberParam(p, 'top_p'));
  set('topK', numberParam(p, 'top_k'));
  set('maxOutputTokens', maxTokens(p));
  set('stopSequences', stopSequences(p));
  set('candidateCount', numberParam(p, 'n'));
  set('presencePenalty', numberParam(p, 'presence_penalty'));
  set('frequencyPenalty', numberParam(p, 'frequency_penalty'));
  set('seed', numberParam(p, 'seed'));
  const json = jsonFormat(p);
  if (json) {
    c.responseMimeType = 'application/json';
    if (json.kind === 'json_schema' && json.schema) c.responseSchema = geminiSchema(json.schema);
  }
  return c;
}

export function toGeminiContents(input: ChatMessage[]): { system: string[]; contents: Content[] } {
  const system: string[] = [];
  const contents: Content[] = [];
  const toolNames = new Map<string, string>();
  const push = (role: Content['role'], parts: Part[]): void => {
    if (parts.length === 0) return;
    const last = contents[contents.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  for (const m of input) {
    if (m.role === 'system' || m.role === 'developer') {
      const text = contentText(m.content);
      if (text) system.push(text);
    } else if (m.role === 'assistant') {
      const parts = contentParts(m.content).map(partOf).filter((x): x is Part => x !== null);
      for (const call of m.tool_calls ?? []) {
        toolNames.set(call.id, call.function.name);
        parts.push({ functionCall: { name: call.function.name, args: parseToolArguments(call.function.arguments) } });
      }
      push('model', parts);
    } else if (m.role === 'tool') {
      const name = toolNames.get(m.tool_call_id ?? '') ?? m.name ?? 'tool';
      push('user', [{ functionResponse: { name, response: toolResponse(m) } }]);
    } else {
      push('user', contentParts(m.content).map(partOf).filter((x): x is Part => x !== null));
    }
  }
  return { system, contents };
}

/** Gemini wants the function result as an object: JSON objects pass, anything else is wrapped. */
function toolResponse(m: ChatMessage): Record<string, unknown> {
  const text = typeof m.content === 'string' ? m.content : contentText(m.content);
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* plain text result */
  }
  return { content: text };
}

function partOf(part: ContentPart): Part | null {
  if (part.type === 'text') {
    const text = (part as { text?: unknown }).text;
    return typeof text === 'string' && text.length > 0 ? { text } : null;
  }
  const url = imageUrlOf(part);
  if (url === undefined) return null;
  const inline = parseDataUrl(url);
  if (inline) return { inlineData: { mimeType: inline.mimeType, data: inline.data } };
  return { fileData: { mimeType: mimeFromUrl(url) ?? 'image/jpeg', fileUri: url } };
}
