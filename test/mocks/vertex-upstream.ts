/**
 * A mock Google Vertex AI (aiplatform v1) with its own OAuth2 token endpoint, on 127.0.0.1
 * (random port), speaking the real wire formats. Use `mock.url` as `network_config.base_url`
 * and `mock.url + '/token'` as the service account's `token_uri`.
 *
 *   POST /token   RFC 7523 JWT bearer grant (form body): the assertion must be RS256-signed by a
 *                 registered account's key (checked with jose), aud = this token URI, scope
 *                 cloud-platform, unexpired → {access_token, expires_in, token_type: "Bearer"};
 *                 otherwise 400 {"error":"invalid_grant","error_description":...} as Google answers.
 *   POST /v1/projects/{p}/locations/{r}/publishers/google/models/{m}:generateContent |
 *        :streamGenerateContent?alt=sse | :predict (embeddings {instances:[{content}]} → {predictions})
 *   POST /v1/projects/{p}/locations/{r}/publishers/anthropic/models/{m}:rawPredict | :streamRawPredict
 *        Anthropic Messages bodies with anthropic_version "vertex-2023-10-16" and no `model`.
 * Every API call needs `Authorization: Bearer <a token this mock issued, not expired or revoked>`:
 * otherwise 401 UNAUTHENTICATED (Google's answer). The project and region in the path must match.
 * `tokensIssued` counts exchanges; `revokeTokens()` makes every issued token invalid.
 */
import { importSPKI, jwtVerify } from 'jose';
import { startMockServer, type Dialect, type MockOptions, type MockUpstream, type RecordedRequest, type Reply } from './mock-server.js';
import { messages as anthropicMessages } from './anthropic-upstream.js';
import { generate } from './gemini-upstream.js';
import { vector, words } from './echo.js';

export type { Fault, RecordedRequest } from './mock-server.js';

export interface VertexMock extends MockUpstream {
  tokensIssued: number;
  revokeTokens(): void;
}

export interface VertexMockOptions extends MockOptions {
  /** client_email → PEM public key (SPKI) of the service accounts allowed to get tokens. */
  accounts: Record<string, string>;
  projectId: string;
  region?: string;
  /** Lifetime of issued tokens in seconds (default 3600). */
  tokenLifetimeSeconds?: number;
}

const STATUS: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };

function googleError(code: number, message?: string, status?: string): unknown {
  return { error: { code, message: message ?? `mock error ${code}`, status: status ?? STATUS[code] ?? (code >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT') } };
}

function fail(code: number, message: string, status?: string): Reply {
  return { kind: 'json', status: code, body: googleError(code, message, status) };
}

export async function startVertexUpstream(opts: VertexMockOptions): Promise<VertexMock> {
  const region = opts.region ?? 'us-central1';
  const tokens = new Map<string, number>(); // token → expiry (ms)
  let issued = 0;
  let mock: VertexMock;

  async function token(rec: RecordedRequest): Promise<Reply> {
    const form = new URLSearchParams(rec.rawBody);
    const grant = (desc: string): Reply => ({ kind: 'json', status: 400, body: { error: 'invalid_grant', error_description: desc } });
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return { kind: 'json', status: 400, body: { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' } };
    const assertion = form.get('assertion') ?? '';
    let iss = '';
    try { iss = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')).iss ?? ''; } catch { return grant('Invalid JWT: Token must be a short-lived token and in a reasonable timeframe'); }
    const pem = opts.accounts[iss];
    if (!pem) return grant('Invalid grant: account not found');
    try {
      const { payload } = await jwtVerify(assertion, await importSPKI(pem, 'RS256'), { audience: `${mock.url}/token`, issuer: iss, algorithms: ['RS256'] });
      if (payload.scope !== 'https://www.googleapis.com/auth/cloud-platform') return { kind: 'json', status: 400, body: { error: 'invalid_scope', error_description: 'Invalid OAuth scope or ID token audience provided.' } };
    } catch {
      return grant('Invalid JWT Signature.');
    }
    issued++;
    mock.tokensIssued = issued;
    const lifetime = opts.tokenLifetimeSeconds ?? 3600;
    const access = `ya29.mock-${issued}-${Math.random().toString(36).slice(2)}`;
    tokens.set(access, Date.now() + lifetime * 1000);
    return { kind: 'json', body: { access_token: access, expires_in: lifetime, token_type: 'Bearer' } };
  }

  const dialect: Dialect = {
    keyOf: (req) => /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1],
    authError: () => fail(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', 'UNAUTHENTICATED'),
    errorBody: (status, message, type) => googleError(status, message, type),
    errorEvent: (message, type) => `data: ${JSON.stringify(googleError(500, message ?? 'Internal error encountered.', type ?? 'INTERNAL'))}\n\n`,
    async route(rec) {
      if (rec.path === '/token' && rec.method === 'POST') return token(rec);
      const bearer = rec.key;
      const expiry = bearer ? tokens.get(bearer) : undefined;
      if (!expiry || expiry < Date.now()) {
        return fail(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', 'UNAUTHENTICATED');
      }
      const m = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/(google|anthropic)\/models\/([^/:]+):(\w+)$/.exec(rec.path);
      if (rec.method !== 'POST' || !m) return fail(404, `Not found: ${rec.method} ${rec.path}`, 'NOT_FOUND');
      if (m[1] !== opts.projectId) return fail(403, `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/${m[1]}/locations/${m[2]}' (or it may not exist).`, 'PERMISSION_DENIED');
      if (m[2] !== region) return fail(400, `Location ${m[2]} is not supported for this model.`);
      if (rec.body === undefined) return fail(400, 'Invalid JSON payload received.');
      const model = decodeURIComponent(m[4] as string);
      const method = m[5] as string;
      if (m[3] === 'anthropic') {
        if (method !== 'rawPredict' && method !== 'streamRawPredict') return fail(404, `Method not found: ${method}`, 'NOT_FOUND');
        const b = rec.body as Record<string, unknown>;
        if (b.anthropic_version !== 'vertex-2023-10-16') return { kind: 'json', status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'anthropic_version: Input should be \'vertex-2023-10-16\'' } } };
        if ('model' in b) return { kind: 'json', status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'model: Extra inputs are not permitted' } } };
        if ((method === 'streamRawPredict') !== (b.stream === true)) return fail(400, 'stream must be true for streamRawPredict and absent for rawPredict');
        const { anthropic_version: _v, ...rest } = b;
        return anthropicMessages({ ...rec, body: { ...rest, model } });
      }
      switch (method) {
        case 'generateContent': return generate(rec, model, 'json');
        case 'streamGenerateContent': return generate(rec, model, rec.query.alt === 'sse' ? 'sse' : 'array');
        case 'predict': return predict(rec);
        default: return fail(404, `Method not found: ${method}`, 'NOT_FOUND');
      }
    },
  };
  const base = await startMockServer(dialect, opts);
  const origReset = base.reset.bind(base);
  mock = Object.assign(base, {
    tokensIssued: 0,
    revokeTokens() { tokens.clear(); },
  });
  mock.reset = () => { origReset(); };
  return mock;
}

function predict(rec: RecordedRequest): Reply {
  const b = rec.body as { instances?: Array<{ content?: unknown }>; parameters?: { outputDimensionality?: number } };
  if (!Array.isArray(b.instances) || b.instances.length === 0) return fail(400, 'instances: required');
  const dims = b.parameters?.outputDimensionality ?? 8;
  const predictions = [];
  for (const [i, inst] of b.instances.entries()) {
    if (typeof inst?.content !== 'string') return fail(400, `instances[${i}].content: required`);
    predictions.push({ embeddings: { values: vector(inst.content, Math.min(dims, 8)), statistics: { token_count: words(inst.content), truncated: false } } });
  }
  return { kind: 'json', body: { predictions, metadata: { billableCharacterCount: 10 } } };
}
