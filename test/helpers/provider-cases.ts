/**
 * One mock upstream and one config block per provider adapter, shared by the tests that run the
 * same checks through every provider (providers-e2e, hook-probe).
 */
import { generateKeyPairSync } from 'node:crypto';
import { startAnthropicUpstream } from '../mocks/anthropic-upstream.js';
import { startBedrockUpstream } from '../mocks/bedrock-upstream.js';
import { startCohereUpstream } from '../mocks/cohere-upstream.js';
import { startGeminiUpstream } from '../mocks/gemini-upstream.js';
import { startMistralUpstream } from '../mocks/mistral-upstream.js';
import type { MockUpstream } from '../mocks/mock-server.js';
import { startOpenAIUpstream } from '../mocks/openai-upstream.js';
import { startVertexUpstream } from '../mocks/vertex-upstream.js';

export interface Case {
  provider: string;
  model: string;
  start: () => Promise<MockUpstream>;
  /** The embedding model to try, or undefined when the provider has none. */
  embeddings: string | undefined;
  /** The provider's config block for a mock at `url`. */
  config: (url: string) => Record<string, unknown>;
  /** What the mock records as the credential the gateway used. */
  sentKey: string;
}

export const apiKey = (url: string): Record<string, unknown> => ({ keys: [{ value: 'secret-key' }], network_config: { base_url: url } });

const sa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const SA_EMAIL = 'gatehouse-test@test-project.iam.gserviceaccount.com';
const startVertex = (): Promise<MockUpstream> => startVertexUpstream({ accounts: { [SA_EMAIL]: sa.publicKey }, projectId: 'test-project', region: 'europe-west4' });
const vertexConfig = (url: string): Record<string, unknown> => ({
  keys: [{ vertex_key_config: { project_id: 'test-project', region: 'europe-west4', auth_credentials: JSON.stringify({ type: 'service_account', client_email: SA_EMAIL, private_key: sa.privateKey, private_key_id: 'kid1', token_uri: `${url}/token` }) } }],
  network_config: { base_url: url },
});

export const PROVIDER_CASES: Case[] = [
  { provider: 'openai', model: 'gpt-4o-mini', start: () => startOpenAIUpstream(), embeddings: 'text-embedding-3-small', config: apiKey, sentKey: 'secret-key' },
  { provider: 'anthropic', model: 'claude-3-5-haiku-latest', start: () => startAnthropicUpstream(), embeddings: undefined, config: apiKey, sentKey: 'secret-key' },
  { provider: 'gemini', model: 'gemini-2.0-flash', start: () => startGeminiUpstream(), embeddings: 'text-embedding-004', config: apiKey, sentKey: 'secret-key' },
  {
    provider: 'bedrock', model: 'anthropic.claude-3-5-haiku-20241022-v1:0', embeddings: 'amazon.titan-embed-text-v2:0', sentKey: 'AKIDBEDROCKTEST',
    start: () => startBedrockUpstream({ credentials: { AKIDBEDROCKTEST: 'bedrock-secret-key' } }),
    config: (url) => ({ keys: [{ bedrock_key_config: { access_key: 'AKIDBEDROCKTEST', secret_key: 'bedrock-secret-key', region: 'us-east-1' } }], network_config: { base_url: url } }),
  },
  { provider: 'cohere', model: 'command-r-plus', start: () => startCohereUpstream({ keys: ['secret-key'] }), embeddings: 'embed-v4.0', config: apiKey, sentKey: 'secret-key' },
  { provider: 'mistral', model: 'mistral-small-latest', start: () => startMistralUpstream({ keys: ['secret-key'] }), embeddings: 'mistral-embed', config: apiKey, sentKey: 'secret-key' },
  { provider: 'vertex', model: 'gemini-2.0-flash-001', embeddings: 'text-embedding-005', start: startVertex, config: vertexConfig, sentKey: 'ya29.' },
  { provider: 'vertex', model: 'claude-3-5-haiku@20241022', embeddings: 'text-embedding-005', start: startVertex, config: vertexConfig, sentKey: 'ya29.' },
];
