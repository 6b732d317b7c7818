import { GatewayError } from '../../schema/errors.js';
import { toGatewayError, type UpstreamResponse } from '../upstream-client.js';

/**
 * Reads a whole upstream body as text, within `res.limits`: at most `maxBodyBytes` (more is a
 * 502, and the connection is dropped rather than drained), and done before `responseTimeoutMs`
 * after the request was sent (checked as bytes arrive: a body that trickles one byte at a time is
 * cut there; one that stops altogether is cut by the idle timeout). A reset mid-body becomes a
 * gateway error.
 */
export async function readText(res: UpstreamResponse, provider: string): Promise<string> {
  const { maxBodyBytes } = res.limits;
  const out = await readBounded(res, provider, maxBodyBytes);
  if (out.truncated) {
    throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${provider}: upstream answer is larger than the limit of ${formatBytes(maxBodyBytes)} (network_config.max_response_body_size_mb)`, { provider, retryable: false });
  }
  return out.text;
}

/**
 * Reads at most `maxErrorBodyBytes` of an error answer: the message is at the start, and a 200 MiB
 * error body is not worth reading. `truncated` says the rest was dropped.
 */
export function readErrorText(res: UpstreamResponse, provider: string): Promise<{ text: string; truncated: boolean }> {
  return readBounded(res, provider, res.limits.maxErrorBodyBytes);
}

async function readBounded(res: UpstreamResponse, provider: string, max: number): Promise<{ text: string; truncated: boolean }> {
  const body = res.body;
  const deadline = res.startedAt + res.limits.responseTimeoutMs;
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  try {
    for await (const c of body as AsyncIterable<Buffer>) {
      if (performance.now() > deadline) {
        throw new GatewayError('GH_ERR_UPSTREAM_TIMEOUT', `${provider}: upstream answer not complete within ${Math.round(res.limits.responseTimeoutMs / 1000)} s (network_config.response_timeout_in_seconds)`, { provider, retryable: true });
      }
      if (size + c.length > max) {
        chunks.push(c.subarray(0, max - size));
        size = max;
        truncated = true;
        break; // leaving the loop destroys the body: the rest is never read
      }
      chunks.push(c);
      size += c.length;
    }
  } catch (err) {
    throw toGatewayError(err, provider);
  }
  const buf = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
  return { text: buf.toString('utf8'), truncated };
}

/** Reads and parses a JSON body; invalid JSON from a provider is a 502, retryable. */
export async function readJson<T = unknown>(res: UpstreamResponse, provider: string): Promise<T> {
  return (await readJsonWithText<T>(res, provider)).value;
}

/** Like readJson, also keeping the text, so a body nobody changes can be sent on as it came. */
export async function readJsonWithText<T = unknown>(res: UpstreamResponse, provider: string): Promise<{ value: T; text: string }> {
  const text = await readText(res, provider);
  try {
    return { value: JSON.parse(text) as T, text };
  } catch {
    throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${provider}: upstream sent a body that is not valid JSON`, { provider, retryable: true });
  }
}

/** Drains and discards a body so the connection goes back to the pool. */
export async function discard(res: UpstreamResponse): Promise<void> {
  try {
    await res.body.dump();
  } catch {
    /* the socket is gone; nothing to keep */
  }
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${+(n / 1024 / 1024).toFixed(2)} MB` : n >= 1024 ? `${+(n / 1024).toFixed(2)} KB` : `${n} bytes`;
}
