/**
 * Headers that frame the HTTP message itself. The gateway owns them: it sets content-length (or
 * chunked encoding for streams) when it writes the answer, and node manages the connection. A
 * plugin's value for one of them would go out beside the gateway's own, two framings on one
 * response (a desync primitive behind a keep-alive proxy), so the pipeline drops it from whatever
 * a plugin returns or leaves in a response. Only plugin-touched responses are scanned.
 */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer']);
/** Lengths of the names above: most header names are skipped without lower-casing them. */
const LENGTHS = new Set([...FRAMING].map((n) => n.length));

export function isFramingHeader(name: string): boolean {
  return LENGTHS.has(name.length) && FRAMING.has(name.toLowerCase());
}

/** Deletes framing headers from `headers` in place; returns the names removed (as written), or null. */
export function dropFramingHeaders(headers: Record<string, unknown>): string[] | null {
  let dropped: string[] | null = null;
  for (const k in headers) {
    if (isFramingHeader(k)) {
      delete headers[k];
      (dropped ??= []).push(k);
    }
  }
  return dropped;
}
