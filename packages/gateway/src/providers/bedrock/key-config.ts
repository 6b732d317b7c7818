import type { ProviderKey } from '../provider.js';

/** What a Bedrock call needs from one key's `bedrock_key_config` (Bifrost's shape). */
export interface BedrockKey {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
  /** An inference-profile or provisioned-throughput ARN prefix: the model id goes after it. */
  arn?: string;
  deployments: Record<string, string>;
}

const parsed = new WeakMap<ProviderKey, BedrockKey>();

/** The key's AWS settings (cached per key object: read once, not per request). */
export function bedrockKey(key: ProviderKey): BedrockKey {
  const hit = parsed.get(key);
  if (hit) return hit;
  const c = (key.config ?? {}) as Record<string, unknown>;
  const out: BedrockKey = {
    accessKeyId: str(c.access_key) ?? '',
    secretAccessKey: str(c.secret_key) ?? '',
    region: str(c.region) ?? 'us-east-1',
    deployments: (c.deployments ?? {}) as Record<string, string>,
  };
  const token = str(c.session_token);
  if (token) out.sessionToken = token;
  const arn = str(c.arn);
  if (arn) out.arn = arn.replace(/\/+$/, '');
  parsed.set(key, out);
  return out;
}

/** Load-time check: SigV4 needs both halves of the access key. */
export function bedrockKeyProblem(key: ProviderKey): string | undefined {
  if (!key.config) return 'bedrock_key_config: required for bedrock (access_key, secret_key, region)';
  const k = bedrockKey(key);
  if (!k.accessKeyId) return 'bedrock_key_config.access_key: required';
  if (!k.secretAccessKey) return 'bedrock_key_config.secret_key: required';
  return undefined;
}

/** The model id for the URL: a deployment mapping wins, and an ARN prefix turns it into a profile ARN. */
export function bedrockModelId(model: string, key: BedrockKey): string {
  const id = key.deployments[model] ?? model;
  return key.arn && !id.startsWith('arn:') ? `${key.arn}/${id}` : id;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
