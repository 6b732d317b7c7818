import { AnthropicAdapter } from './anthropic/adapter.js';
import { BedrockAdapter } from './bedrock/adapter.js';
import { CohereAdapter } from './cohere/adapter.js';
import { ElevenLabsAdapter } from './elevenlabs/adapter.js';
import { GeminiAdapter } from './gemini/adapter.js';
import { MistralAdapter } from './mistral/adapter.js';
import { MockAdapter } from './mock/adapter.js';
import { AzureAdapter } from './openai/azure.js';
import { VertexAdapter } from './vertex/adapter.js';
import { OpenAIAdapter } from './openai/adapter.js';
import { OPENAI_COMPATIBLE } from './openai/family.js';
import type { ProviderAdapter } from './provider.js';

type AdapterFactory = () => ProviderAdapter;

const factories: Record<string, AdapterFactory> = {
  anthropic: () => new AnthropicAdapter(),
  azure: () => new AzureAdapter(),
  bedrock: () => new BedrockAdapter(),
  cohere: () => new CohereAdapter(),
  elevenlabs: () => new ElevenLabsAdapter(),
  gemini: () => new GeminiAdapter(),
  mock: () => new MockAdapter(),
  vertex: () => new VertexAdapter(),
};
for (const [name, family] of Object.entries(OPENAI_COMPATIBLE)) factories[name] = () => new OpenAIAdapter(name, family);
// Mistral speaks OpenAI's format with its own field names and error shape.
factories.mistral = () => new MistralAdapter();

/** Registers an adapter kind (the Anthropic and Gemini modules do this for themselves). */
export function registerAdapter(kind: string, factory: AdapterFactory): void {
  factories[kind] = factory;
}

export function knownProviderKinds(): string[] {
  return Object.keys(factories).sort();
}

/** A fresh adapter for a provider kind, or undefined when the kind is unknown. */
export function createAdapter(kind: string): ProviderAdapter | undefined {
  return factories[kind]?.();
}
