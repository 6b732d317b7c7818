/**
 * OpenAI `tools` / `tool_choice` read into a neutral shape that the Anthropic and Gemini
 * request builders each turn into their own wire format.
 */
export interface FunctionTool {
  name: string;
  description?: string;
  /** JSON Schema of the arguments; undefined when the tool takes none. */
  parameters?: Record<string, unknown>;
}

export type ToolChoice =
  | { mode: 'auto' }
  | { mode: 'none' }
  | { mode: 'required' }
  | { mode: 'tool'; name: string };

/** Function tools of an OpenAI request; other tool types (built-in ones) have no equivalent and are skipped. */
export function functionTools(params: Record<string, unknown>): FunctionTool[] {
  const tools = params.tools;
  if (!Array.isArray(tools)) return [];
  const out: FunctionTool[] = [];
  for (const t of tools as Array<{ type?: string; function?: Record<string, unknown> }>) {
    const fn = t?.function;
    if (!fn || typeof fn.name !== 'string' || (t.type !== undefined && t.type !== 'function')) continue;
    const tool: FunctionTool = { name: fn.name };
    if (typeof fn.description === 'string') tool.description = fn.description;
    if (fn.parameters && typeof fn.parameters === 'object') tool.parameters = fn.parameters as Record<string, unknown>;
    out.push(tool);
  }
  return out;
}

/** `"auto" | "none" | "required" | {type:"function", function:{name}}`; undefined when absent. */
export function toolChoice(params: Record<string, unknown>): ToolChoice | undefined {
  const tc = params.tool_choice;
  if (tc === 'auto' || tc === 'none' || tc === 'required') return { mode: tc };
  const name = (tc as { function?: { name?: unknown } } | undefined)?.function?.name;
  return typeof name === 'string' ? { mode: 'tool', name } : undefined;
}
