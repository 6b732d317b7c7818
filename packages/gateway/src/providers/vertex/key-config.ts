import type { ProviderKey } from '../provider.js';

/** A Vertex key: Bifrost's `vertex_key_config` with its service-account JSON read. */
export interface VertexKey {
  projectId: string;
  region: string;
  deployments: Record<string, string>;
  account?: ServiceAccount;
  /** Why the service-account key cannot be used (reported at load time). */
  problem?: string;
}

export interface ServiceAccount {
  clientEmail: string;
  privateKey: string;
  privateKeyId?: string;
  tokenUri: string;
}

export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const parsed = new WeakMap<ProviderKey, VertexKey>();

export function vertexKey(key: ProviderKey): VertexKey {
  const hit = parsed.get(key);
  if (hit) return hit;
  const c = (key.config ?? {}) as Record<string, unknown>;
  const out: VertexKey = {
    projectId: typeof c.project_id === 'string' ? c.project_id : '',
    region: typeof c.region === 'string' && c.region ? c.region : 'us-central1',
    deployments: (c.deployments ?? {}) as Record<string, string>,
  };
  const creds = readCredentials(c.auth_credentials);
  if (typeof creds === 'string') out.problem = creds;
  else out.account = creds;
  parsed.set(key, out);
  return out;
}

/** The JSON a service-account key file holds; a message (never the key's content) when it is not one. */
function readCredentials(v: unknown): ServiceAccount | string {
  let json: unknown = v;
  if (typeof v === 'string') {
    try {
      json = JSON.parse(v);
    } catch {
      return 'vertex_key_config.auth_credentials: not valid JSON (expected a service-account key file)';
    }
  }
  const j = (json ?? {}) as Record<string, unknown>;
  if (j.type !== undefined && j.type !== 'service_account') return `vertex_key_config.auth_credentials: type "${String(j.type)}" is not supported (expected "service_account")`;
  if (typeof j.client_email !== 'string' || !j.client_email) return 'vertex_key_config.auth_credentials.client_email: required';
  if (typeof j.private_key !== 'string' || !j.private_key.includes('PRIVATE KEY')) return 'vertex_key_config.auth_credentials.private_key: required (a PEM private key)';
  const account: ServiceAccount = {
    clientEmail: j.client_email,
    privateKey: j.private_key,
    tokenUri: typeof j.token_uri === 'string' && j.token_uri ? j.token_uri : GOOGLE_TOKEN_URI,
  };
  if (typeof j.private_key_id === 'string') account.privateKeyId = j.private_key_id;
  return account;
}

export function vertexKeyProblem(key: ProviderKey): string | undefined {
  if (!key.config) return 'vertex_key_config: required for vertex (project_id, region, auth_credentials)';
  const k = vertexKey(key);
  if (!k.projectId) return 'vertex_key_config.project_id: required';
  return k.problem;
}
