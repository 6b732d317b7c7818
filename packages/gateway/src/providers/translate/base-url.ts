/**
 * `network_config.base_url` follows Bifrost's convention (no version path), but users often paste
 * one (`https://api.anthropic.com/v1`). A trailing version segment is kept and the default one is
 * not added again, so both spellings reach the same endpoint.
 */
export function versionedUrl(baseUrl: string, defaultVersion: string, path: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  const hasVersion = /\/v\d+(?:(?:alpha|beta)\d*)?$/.test(base);
  return `${base}${hasVersion ? '' : defaultVersion}${path}`;
}
