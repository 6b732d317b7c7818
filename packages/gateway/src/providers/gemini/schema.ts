/**
 * Gemini's `parameters` / `responseSchema` accept an OpenAPI subset of JSON Schema and reject
 * the request over keys outside it (`$schema`, `additionalProperties`, `$ref`...). Tool schemas
 * written for OpenAI are cut down to that subset; type unions with null become `nullable`.
 */
const KEEP = new Set([
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems', 'properties',
  'required', 'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'example',
  'anyOf', 'propertyOrdering', 'default', 'items', 'minimum', 'maximum',
]);

export function geminiSchema(schema: unknown): Record<string, unknown> {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema as Record<string, unknown>)) {
    if (!KEEP.has(key)) continue;
    if (key === 'properties' && value && typeof value === 'object') {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, geminiSchema(v)]));
    } else if (key === 'items') {
      out.items = geminiSchema(value);
    } else if (key === 'anyOf' && Array.isArray(value)) {
      out.anyOf = value.map(geminiSchema);
    } else if (key === 'type' && Array.isArray(value)) {
      const types = value.filter((t) => t !== 'null');
      out.type = types[0] ?? 'string';
      if (types.length < value.length) out.nullable = true;
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Gemini refuses an OBJECT schema with no properties; such a tool simply takes no parameters. */
export function hasProperties(schema: Record<string, unknown>): boolean {
  const props = schema.properties;
  return schema.type !== 'object' || (!!props && typeof props === 'object' && Object.keys(props).length > 0);
}
