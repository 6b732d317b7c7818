import { z } from 'zod';
import { configSchema } from './schema.js';

/** The JSON Schema of config.json, for editors (`"$schema": ".../config.schema.json"`). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
