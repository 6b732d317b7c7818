import type { RequestContext } from '../../schema/context.js';
import type { HttpRequestData } from '../../schema/http.js';

type Interceptor = (ctx: RequestContext, url: string, headers: Record<string, string>, body: unknown) => unknown;

/**
 * v1.3's `TransportInterceptor(ctx, url, headers, body)` returned modified headers and a modified
 * parsed body. It runs as a transport pre-hook: the body is parsed for it (when JSON) and the
 * result written back; returning `{headers, body}` or `[headers, body]` both work.
 */
export function adaptLegacyInterceptor(fn: Interceptor, self: unknown) {
  return async (ctx: RequestContext, req: HttpRequestData): Promise<void> => {
    let body: unknown = null;
    if (req.body && req.body.byteLength > 0) {
      try {
        body = JSON.parse(Buffer.from(req.body).toString('utf8'));
      } catch {
        body = null;
      }
    }
    const out = await fn.call(self, ctx, req.path, { ...req.headers }, body);
    if (!out) return;
    const [headers, newBody] = Array.isArray(out) ? out : [(out as { headers?: unknown }).headers, (out as { body?: unknown }).body];
    if (headers && typeof headers === 'object') {
      for (const [k, v] of Object.entries(headers as Record<string, unknown>)) if (typeof v === 'string') req.headers[k] = v;
    }
    if (newBody !== undefined && newBody !== null) req.body = Buffer.from(JSON.stringify(newBody));
  };
}
