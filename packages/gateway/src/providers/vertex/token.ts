import { importPKCS8, SignJWT, type CryptoKey } from 'jose';
import { GatewayError } from '../../schema/errors.js';
import type { ProviderCall } from '../provider.js';
import { readText } from '../translate/upstream-body.js';
import type { ServiceAccount } from './key-config.js';

/**
 * OAuth2 access tokens for a service account (RFC 7523 JWT bearer grant, as Google documents it):
 * a JWT signed with the account's RS256 key is exchanged at its `token_uri` for a bearer token.
 * A token is reused until shortly before it expires; concurrent requests share one exchange, and
 * a token the API refused early is dropped so the next call fetches one new token, not one each.
 */
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

interface Entry { token: string; expiresAt: number }

export class TokenCache {
  readonly #entries = new Map<ServiceAccount, Entry>();
  readonly #pending = new Map<ServiceAccount, Promise<Entry>>();
  readonly #keys = new WeakMap<ServiceAccount, Promise<CryptoKey>>();
  /** Exchanges done, for tests and logs. */
  exchanges = 0;

  async token(account: ServiceAccount, call: ProviderCall, provider: string): Promise<string> {
    const e = this.#entries.get(account);
    if (e && Date.now() < e.expiresAt) return e.token;
    let p = this.#pending.get(account);
    if (!p) {
      p = this.#exchange(account, call, provider).finally(() => this.#pending.delete(account));
      this.#pending.set(account, p);
    }
    return (await p).token;
  }

  /** Drops `token` if it is still the cached one (the API said it is no longer valid). */
  invalidate(account: ServiceAccount, token: string): void {
    if (this.#entries.get(account)?.token === token) this.#entries.delete(account);
  }

  async #exchange(account: ServiceAccount, call: ProviderCall, provider: string): Promise<Entry> {
    this.exchanges++;
    const assertion = await this.#assertion(account, provider);
    const res = await call.http.request({
      url: account.tokenUri,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
      signal: call.signal,
      headersTimeoutMs: call.network.requestTimeoutMs,
      bodyTimeoutMs: call.network.requestTimeoutMs,
      provider,
    });
    const text = await readText(res, provider);
    let body: Record<string, unknown> = {};
    try { body = JSON.parse(text) as Record<string, unknown>; } catch { /* reported below */ }
    if (res.status !== 200 || typeof body.access_token !== 'string') {
      // Google answers a bad key or a revoked account with 400 invalid_grant: to the client that is an auth failure.
      const detail = [body.error, body.error_description].filter((x) => typeof x === 'string').join(': ') || `token endpoint answered HTTP ${res.status}`;
      const status = res.status >= 500 || res.status === 429 ? res.status : 401;
      throw new GatewayError('GH_ERR_UPSTREAM_STATUS', `${provider}: service-account token exchange failed (${detail})`, {
        provider, status, type: status === 401 ? 'authentication_error' : 'api_error', retryable: status === 429 || status >= 500,
      });
    }
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 3600) * 1000;
    // Renew a minute early (a tenth of the lifetime for short-lived tokens) so no request carries a token that expires on the way.
    const entry = { token: body.access_token, expiresAt: Date.now() + lifetimeMs - Math.min(60_000, lifetimeMs / 10) };
    this.#entries.set(account, entry);
    return entry;
  }

  async #assertion(account: ServiceAccount, provider: string): Promise<string> {
    let key = this.#keys.get(account);
    if (!key) {
      key = importPKCS8(account.privateKey, 'RS256');
      this.#keys.set(account, key);
    }
    let signingKey: CryptoKey;
    try {
      signingKey = await key;
    } catch {
      this.#keys.delete(account);
      throw new GatewayError('GH_ERR_UPSTREAM_STATUS', `${provider}: the service account's private_key cannot be read (expected PKCS#8 PEM)`, { provider, status: 401, type: 'authentication_error' });
    }
    const header: { alg: string; typ: string; kid?: string } = { alg: 'RS256', typ: 'JWT' };
    if (account.privateKeyId) header.kid = account.privateKeyId;
    return new SignJWT({ scope: SCOPE })
      .setProtectedHeader(header)
      .setIssuer(account.clientEmail)
      .setSubject(account.clientEmail)
      .setAudience(account.tokenUri)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(signingKey);
  }
}
