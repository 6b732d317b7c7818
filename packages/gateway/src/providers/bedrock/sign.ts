import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { BedrockKey } from './key-config.js';

/**
 * AWS SigV4 for bedrock-runtime, by @smithy/signature-v4 (the signer the AWS SDK itself uses).
 * One signer per key and region: it caches the derived signing key per day.
 */
const signers = new WeakMap<BedrockKey, SignatureV4>();

function signerFor(key: BedrockKey): SignatureV4 {
  let s = signers.get(key);
  if (!s) {
    const credentials = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, ...(key.sessionToken ? { sessionToken: key.sessionToken } : {}) };
    s = new SignatureV4({ credentials, region: key.region, service: 'bedrock', sha256: Sha256 });
    signers.set(key, s);
  }
  return s;
}

/** The headers of a signed POST of `body` to `url` (host, x-amz-date, authorization...). */
export async function signedHeaders(key: BedrockKey, url: URL, body: string, headers: Record<string, string>): Promise<Record<string, string>> {
  const signed = await signerFor(key).sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    // The path exactly as it goes on the wire (model ids are percent-encoded once).
    path: url.pathname,
    query: {},
    headers: { ...headers, host: url.host },
    body,
  });
  return signed.headers as Record<string, string>;
}
