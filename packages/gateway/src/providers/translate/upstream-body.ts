import { GatewayError } from '../../schema/errors.js';
import { toGatewayError, type UpstreamResponse } from '../upstream-client.js';

/** Reads a whole upstream body as text; a reset or timeout mid-body becomes a gateway error. */
export async function readText(res: UpstreamResponse, provider: string): Promise<string> {
  try {
    return await res.body.text();
  } catch (err) {
    throw toGatewayError(err, provider);
  }
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
