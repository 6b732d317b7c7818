#!/usr/bin/env node
// Writes packages/gateway/schema/config.schema.json from the zod schema (run after the build),
// so editors can validate config.json through its "$schema" key.
import { mkdirSync, writeFileSync } from 'node:fs';
const { configJsonSchema } = await import('../packages/gateway/dist/config/json-schema.js');
const out = new URL('../packages/gateway/schema/config.schema.json', import.meta.url);
mkdirSync(new URL('.', out), { recursive: true });
const schema = { $id: 'https://gatehouse.dev/schema/config.schema.json', title: 'Gatehouse config.json', ...configJsonSchema() };
writeFileSync(out, JSON.stringify(schema, null, 2) + '\n');
