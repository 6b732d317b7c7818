import type { CancelSignal } from '../schema/cancel.js';
import { GatewayError } from '../schema/errors.js';
import type { LLMRequest } from '../schema/request.js';
import type { StreamChunk } from '../schema/stream.js';
import type { ProviderResult } from '../providers/provider.js';
import { callAdapter } from '../providers/dispatch.js';
import type { UpstreamClient } from '../providers/upstream-client.js';
import { toGatewayError } from '../providers/upstream-client.js';
import { pickKey } from './keys.js';
import type { Target } from './route.js';

/** A provider answer ready to send: a whole response, or a stream whose first event already arrived. */
export type CallOutcome =
  | Extract<ProviderResult, { kind: 'response' | 'passthrough' }>
  | { kind: 'stream'; first: StreamChunk | undefined; rest: AsyncIterator<StreamChunk> };

/**
 * One target, with retries: network errors, 429 and 5xx are retried up to `max_retries` times with
 * exponential backoff and full jitter, honouring `retry-after` (a wait longer than the backoff cap
 * is not waited for: the error goes to the fallbacks instead). A 429 moves to another key not yet
 * rate-limited at once (not counted as a retry, whatever `max_retries` and `retry-after` say); a
 * 401/403 puts the key aside for this request and tries the next key at once.
 * A stream's first event is awaited here, so a stream that fails before sending anything is
 * retried like any other failure; once an event has reached the client nothing is retried.
 */
export async function callWithRetries(target: Target, req: LLMRequest, http: UpstreamClient, signal: CancelSignal): Promise<CallOutcome> {
  const { provider } = target;
  const net = provider.network;
  let retries = 0;
  let excluded: Set<string> | undefined;
  let avoided: Set<string> | undefined;
  let lastError: GatewayError | undefined;
  for (;;) {
    const key = pickKey(provider.keys, target.model, excluded, avoided);
    if (!key) {
      throw lastError ?? new GatewayError('GH_ERR_NO_KEY_AVAILABLE', `${provider.name}: no key serves model "${target.model}"`, { provider: provider.name });
    }
    try {
      const result = await callAdapter(provider.adapter, provider.name, req, { key, network: net, meta: provider.meta, signal, http });
      if (result.kind !== 'stream') return result;
      const it = result.stream[Symbol.asyncIterator]();
      const first = await it.next();
      return { kind: 'stream', first: first.done ? undefined : first.value, rest: it };
    } catch (err) {
      const e = toGatewayError(err, provider.name);
      lastError = e;
      if (signal.aborted) throw e;
      if (e.status === 401 || e.status === 403) {
        (excluded ??= new Set()).add(key.name);
        if (pickKey(provider.keys, target.model, excluded)) continue;
        throw e;
      }
      if (e.status === 429) {
        (avoided ??= new Set()).add(key.name);
        // Another key not yet rate-limited is tried at once: a key switch is not a retry, so it
        // needs no max_retries and waits for no retry-after (that key's limit is not the other's).
        if (pickKey(provider.keys, target.model, union(excluded, avoided))) continue;
      }
      if (!e.retryable || retries >= net.maxRetries) throw e;
      const wait = backoffMs(retries, net.retryBackoffInitialMs, net.retryBackoffMaxMs, e.retryAfterMs);
      if (wait === undefined) throw e;
      retries++;
      await sleep(wait, signal);
      if (signal.aborted) throw e;
    }
  }
}

function union(a: ReadonlySet<string> | undefined, b: ReadonlySet<string>): ReadonlySet<string> {
  if (!a || a.size === 0) return b;
  return new Set([...a, ...b]);
}

/** Full-jitter exponential backoff; `undefined` when the server asks for longer than the cap. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number, retryAfterMs?: number): number | undefined {
  if (retryAfterMs !== undefined) return retryAfterMs > maxMs ? undefined : retryAfterMs;
  const ceiling = Math.min(maxMs, initialMs * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function sleep(ms: number, signal: CancelSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => { clearTimeout(t); resolve(); };
    const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
