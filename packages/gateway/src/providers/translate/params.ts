/** Reading the OpenAI body fields every translating adapter needs, whatever their spelling. */

/** `max_completion_tokens` (newer) wins over `max_tokens`. */
export function maxTokens(params: Record<string, unknown>): number | undefined {
  const v = params.max_completion_tokens ?? params.max_tokens;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** `stop` is a string or a list. */
export function stopSequences(params: Record<string, unknown>): string[] | undefined {
  const s = params.stop;
  if (typeof s === 'string') return [s];
  if (Array.isArray(s)) {
    const list = s.filter((x): x is string => typeof x === 'string');
    return list.length ? list : undefined;
  }
  return undefined;
}

export function numberParam(params: Record<string, unknown>, name: string): number | undefined {
  const v = params[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function includeUsage(params: Record<string, unknown>): boolean {
  return (params.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
}

export type JsonFormat = { kind: 'json_object' } | { kind: 'json_schema'; schema?: Record<string, unknown>; name?: string };

/** `response_format` asking for JSON, or undefined for text / absent. */
export function jsonFormat(params: Record<string, unknown>): JsonFormat | undefined {
  const rf = params.response_format as { type?: string; json_schema?: { schema?: unknown; name?: unknown } } | undefined;
  if (rf?.type === 'json_object') return { kind: 'json_object' };
  if (rf?.type !== 'json_schema') return undefined;
  const schema = rf.json_schema?.schema;
  const out: JsonFormat = { kind: 'json_schema' };
  if (schema && typeof schema === 'object') out.schema = schema as Record<string, unknown>;
  if (typeof rf.json_schema?.name === 'string') out.name = rf.json_schema.name;
  return out;
}
