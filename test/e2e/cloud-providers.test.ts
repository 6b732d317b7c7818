/**
 * Bedrock and Vertex through the whole gateway: fallbacks from one cloud to the other, 429 with
 * retry-after, the Vertex token lifecycle (cached, refreshed once when it expires or is revoked),
 * wrong credentials (the provider's message with 401/403, never the secret), and key configs
 * (env refs, load-time checks, custom providers on top of the new base types).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import OpenAI from 'openai';
import { buildConfig } from '../../packages/gateway/src/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startBedrockUpstream, type MockUpstream } from '../mocks/bedrock-upstream.js';
import { startVertexUpstream, type VertexMock } from '../mocks/vertex-upstream.js';

const keyPair = () => generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const sa = keyPair();
const stranger = keyPair();
const EMAIL = 'gw@proj-1.iam.gserviceaccount.com';
const SECRET = 'aws-secret-must-not-leak';

function saJson(url: string, privateKey = sa.privateKey): string {
  return JSON.stringify({ type: 'service_account', project_id: 'proj-1', client_email: EMAIL, private_key: privateKey, private_key_id: 'k1', token_uri: `${url}/token` });
}

function providers(bedrockUrl: string, vertexUrl: string, over: { secret?: string; privateKey?: string; maxRetries?: number } = {}): Record<string, unknown> {
  return {
    bedrock: {
      keys: [{ name: 'aws', bedrock_key_config: { access_key: 'AKIDCLOUD', secret_key: over.secret ?? SECRET, region: 'us-west-2' } }],
      network_config: { base_url: bedrockUrl, max_retries: over.maxRetries ?? 0, retry_backoff_initial_ms: 10, retry_backoff_max_ms: 2000 },
    },
    vertex: {
      keys: [{ name: 'gcp', vertex_key_config: { project_id: 'proj-1', region: 'us-central1', auth_credentials: saJson(vertexUrl, over.privateKey) } }],
      network_config: { base_url: vertexUrl },
    },
  };
}

describe('Bedrock and Vertex through the gateway', () => {
  let bedrock: MockUpstream;
  let vertex: VertexMock;
  const gateways: TestGateway[] = [];
  async function gateway(over: Parameters<typeof providers>[2] = {}): Promise<{ gw: TestGateway; client: OpenAI }> {
    const gw = await startTestGateway({ providers: providers(bedrock.url, vertex.url, over) });
    gateways.push(gw);
    return { gw, client: new OpenAI({ baseURL: gw.baseURL, apiKey: 'client-key', maxRetries: 0 }) };
  }
  before(async () => {
    bedrock = await startBedrockUpstream({ credentials: { AKIDCLOUD: SECRET }, region: 'us-west-2' });
    vertex = await startVertexUpstream({ accounts: { [EMAIL]: sa.publicKey }, projectId: 'proj-1', tokenLifetimeSeconds: 2 });
  });
  beforeEach(() => { bedrock.reset(); vertex.reset(); });
  after(async () => {
    for (const gw of gateways) await gw.close(500);
    await bedrock.close();
    await vertex.close();
  });

  test('Bedrock fails, Vertex answers (fallbacks across clouds), streaming too', async () => {
    const { client } = await gateway();
    bedrock.setBehaviour({ status: 503, message: 'Bedrock is unavailable' });
    const body = { model: 'bedrock/anthropic.claude-3-haiku-20240307-v1:0', messages: [{ role: 'user' as const, content: 'fall over' }], fallbacks: ['vertex/gemini-2.0-flash-001'] };
    const res = await client.chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming);
    assert.equal(res.choices[0]?.message.content, 'Echo: fall over');
    assert.equal(bedrock.requests.length, 1);
    assert.equal(vertex.requests.filter((r) => r.path.includes(':generateContent')).length, 1);
    const stream = await client.chat.completions.create({ ...body, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming);
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'Echo: fall over');
    bedrock.setBehaviour(undefined);
  });

  test('a 429 with retry-after is waited out and retried', async () => {
    const { client } = await gateway({ maxRetries: 1 });
    bedrock.enqueue({ status: 429, retryAfter: '0.3' });
    const t0 = Date.now();
    const res = await client.chat.completions.create({ model: 'bedrock/amazon.nova-lite-v1:0', messages: [{ role: 'user', content: 'again' }] });
    assert.equal(res.choices[0]?.message.content, 'Echo: again');
    assert.equal(bedrock.requests.length, 2);
    assert.ok(Date.now() - t0 >= 280, `waited ${Date.now() - t0} ms`);
    bedrock.enqueue({ status: 429, retryAfter: '0.1' }, 2);
    await assert.rejects(client.chat.completions.create({ model: 'bedrock/amazon.nova-lite-v1:0', messages: [{ role: 'user', content: 'x' }] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.RateLimitError);
      assert.match(err.message, /Too many requests/);
      return true;
    });
  });

  test('a Vertex token is reused, refreshed once when it expires, and once when it is revoked', async () => {
    const { gw, client } = await gateway();
    const ask = (content: string) => client.chat.completions.create({ model: 'vertex/gemini-2.0-flash-001', messages: [{ role: 'user', content }] });
    const before = vertex.tokensIssued;
    await ask('one');
    await ask('two');
    assert.equal(vertex.tokensIssued - before, 1, 'one token for two requests');
    await new Promise((r) => setTimeout(r, 2100)); // the 2 s token has expired
    const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => ask(`after expiry ${i}`)));
    assert.equal(answers.length, 5);
    assert.equal(vertex.tokensIssued - before, 2, 'one refresh for five concurrent requests');
    vertex.revokeTokens();
    await Promise.all([1, 2, 3].map((i) => ask(`after revoke ${i}`)));
    assert.equal(vertex.tokensIssued - before, 3, 'one refresh after a 401');
    assert.ok(!JSON.stringify(gw.logs).includes('ya29.'), 'tokens are not logged');
  });

  test('wrong credentials: the provider message with 401/403, never the secret', async () => {
    const { gw, client } = await gateway({ secret: 'wrong-aws-secret-value', privateKey: stranger.privateKey });
    await assert.rejects(client.chat.completions.create({ model: 'bedrock/amazon.nova-lite-v1:0', messages: [{ role: 'user', content: 'x' }] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.PermissionDeniedError);
      assert.match(err.message, /signature we calculated does not match/);
      return true;
    });
    await assert.rejects(client.chat.completions.create({ model: 'vertex/claude-3-5-haiku@20241022', messages: [{ role: 'user', content: 'x' }] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.AuthenticationError);
      assert.match(err.message, /invalid_grant: Invalid JWT Signature/);
      return true;
    });
    const seen = JSON.stringify(gw.logs);
    for (const secret of ['wrong-aws-secret-value', SECRET, 'PRIVATE KEY', stranger.privateKey.slice(40, 80)]) assert.ok(!seen.includes(secret), `logs hold ${secret.slice(0, 12)}`);
  });

  test('key configs: env refs, load-time checks, custom providers on the new base types', async () => {
    const env = { AWS_AK: 'AKIDCLOUD', AWS_SK: SECRET, SA: saJson(vertex.url) };
    const gw = await startTestGateway({
      providers: {
        'aws-prod': { custom_provider_config: { base_provider_type: 'bedrock' }, keys: [{ bedrock_key_config: { access_key: 'env.AWS_AK', secret_key: 'env.AWS_SK', region: 'us-west-2' } }], network_config: { base_url: bedrock.url } },
        'gcp-prod': { custom_provider_config: { base_provider_type: 'vertex' }, keys: [{ vertex_key_config: { project_id: 'proj-1', auth_credentials: 'env.SA' } }], network_config: { base_url: vertex.url } },
      },
    }, { env });
    gateways.push(gw);
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'c', maxRetries: 0 });
    const a = await client.chat.completions.create({ model: 'aws-prod/amazon.nova-lite-v1:0', messages: [{ role: 'user', content: 'env works' }] });
    assert.equal(a.choices[0]?.message.content, 'Echo: env works');
    const b = await client.embeddings.create({ model: 'gcp-prod/text-embedding-005', input: ['a b', 'c'] });
    assert.equal(b.data.length, 2);
    assert.equal(b.usage.prompt_tokens, 3);

    assert.throws(() => buildConfig({ providers: { bedrock: { keys: [{ value: 'x' }] } } }), /providers\.bedrock\.keys\[0\]\.bedrock_key_config: required/);
    assert.throws(() => buildConfig({ providers: { bedrock: { keys: [{ bedrock_key_config: { access_key: 'A' } }] } } }), /bedrock_key_config\.secret_key: required/);
    assert.throws(() => buildConfig({ providers: { vertex: { keys: [{ vertex_key_config: { project_id: 'p', auth_credentials: '{not json' } }] } } }), /auth_credentials: not valid JSON/);
    assert.throws(() => buildConfig({ providers: { vertex: { keys: [{ vertex_key_config: { project_id: 'p', auth_credentials: { client_email: 'e', private_key: 'nope' } } }] } } }), /private_key: required/);
    assert.throws(() => buildConfig({ providers: { vertex: { keys: [{ vertex_key_config: { auth_credentials: '{}' } }] } } }), /project_id/);
  });
});
