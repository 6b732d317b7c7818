/**
 * The HTTP shapes transport hooks see. Bodies are bytes here; the WASM host turns them into
 * base64 at its boundary. Headers and query keep the client's case; look them up with `headerOf`.
 */
export interface HttpRequestData {
  method: string;
  path: string;
  headers: Record<string, string>;
  query: Record<string, string>;
  path_params: Record<string, string>;
  body: Uint8Array | null;
}

export interface HttpResponseData {
  status_code: number;
  headers: Record<string, string>;
  body: Uint8Array | null;
}

export function headerOf(headers: Record<string, string>, name: string): string | undefined {
  // Own string values only: a plugin's plain object would otherwise answer `toString` with a function.
  if (Object.hasOwn(headers, name) && typeof headers[name] === 'string') return headers[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(headers)) if (k.toLowerCase() === lower && typeof headers[k] === 'string') return headers[k];
  return undefined;
}
