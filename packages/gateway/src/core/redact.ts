import { GatewayError } from '../schema/errors.js';

/** What is kept of an upstream error's message, after keys are cut out. */
export const ERROR_MESSAGE_MAX = 1000;
/** A key's first characters left at the very end of a cut body are masked from this length on. */
const PARTIAL_MIN = 6;
const MASK = '[redacted]';

/**
 * A provider error may quote the key it refused ("Incorrect API key provided: sk-...") in any
 * field: message, type, code, param. Every field is cleaned before anything is shortened (a cut
 * through a key would keep its first characters), then the message is shortened. A key's prefix
 * at the very end of a text (a body cut at its size limit) is masked too.
 * Runs on the error path only; returns `e` itself when nothing had to change.
 */
export function withoutSecrets(e: GatewayError, secrets: readonly string[]): GatewayError {
  const message = shorten(clean(e.message, secrets));
  const type = clean(e.type, secrets);
  const param = e.param === null ? null : clean(e.param, secrets);
  const code = e.upstreamCode === null || e.upstreamCode === undefined ? e.upstreamCode : clean(e.upstreamCode, secrets);
  if (message === e.message && type === e.type && param === e.param && code === e.upstreamCode) return e;
  return new GatewayError(e.code, message, {
    status: e.status, type, param, upstreamCode: code, allowFallbacks: e.allowFallbacks, retryable: e.retryable,
    retryAfterMs: e.retryAfterMs, provider: e.provider, cause: e.cause,
  });
}

/** Every full occurrence of a secret, then a secret's prefix ending the text. */
export function clean(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASK);
  for (const s of secrets) {
    for (let n = Math.min(s.length - 1, out.length); n >= PARTIAL_MIN; n--) {
      if (out.endsWith(s.slice(0, n))) {
        out = out.slice(0, out.length - n) + MASK;
        break;
      }
    }
  }
  return out;
}

function shorten(text: string): string {
  return text.length > ERROR_MESSAGE_MAX ? `${text.slice(0, ERROR_MESSAGE_MAX)}... (${text.length - ERROR_MESSAGE_MAX} more characters)` : text;
}
