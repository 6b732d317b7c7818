/**
 * Where a plugin's bytes come from: a file relative to the config's folder, or an http(s) URL
 * downloaded once (bounded time and size, at most 5 redirects), kept in the cache directory by
 * content SHA-256 and found again after a restart through a small URL -> hash index. An entry's
 * `sha256` pins the content; a mismatch refuses to load and says both hashes. Only public
 * addresses are fetched unless the entry sets `allow_private_url` (address-guard.ts).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { Agent, fetch, type Response } from 'undici';

import type { PluginEntryConfig, PluginLoadOptions } from '../plugin.js';
import { checkLiteralHost, publicOnlyLookup } from './address-guard.js';
import { DOWNLOAD_MAX_BYTES, DOWNLOAD_MAX_REDIRECTS, DOWNLOAD_TIMEOUT_MS } from './limits.js';

export interface PluginBytes { bytes: Uint8Array; sha256: string; source: string }

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const isUrl = (p: string): boolean => /^https?:\/\//i.test(p);

export async function loadPluginBytes(entry: PluginEntryConfig, opts: PluginLoadOptions): Promise<PluginBytes> {
  const pin = entry.sha256?.trim().toLowerCase();
  if (pin !== undefined && !/^[0-9a-f]{64}$/.test(pin)) {
    throw new Error(`wasm plugin "${entry.name}": sha256 must be 64 hex digits, got "${entry.sha256}"`);
  }
  const got = isUrl(entry.path) ? await fromUrl(entry, opts, pin) : await fromFile(entry, opts);
  if (pin !== undefined && got.sha256 !== pin) {
    throw new Error(`wasm plugin "${entry.name}": sha256 mismatch for ${got.source}: expected ${pin}, got ${got.sha256}`);
  }
  return got;
}

async function fromFile(entry: PluginEntryConfig, opts: PluginLoadOptions): Promise<PluginBytes> {
  const file = isAbsolute(entry.path) ? entry.path : resolve(opts.baseDir, entry.path);
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    throw new Error(`wasm plugin "${entry.name}": cannot read ${file}: ${(err as Error).message}`);
  }
  // A fresh Uint8Array: a pooled Buffer shares a larger ArrayBuffer, which some tools misread.
  const bytes = new Uint8Array(buf.byteLength);
  bytes.set(buf);
  return { bytes, sha256: sha256(bytes), source: file };
}

async function fromUrl(entry: PluginEntryConfig, opts: PluginLoadOptions, pin: string | undefined): Promise<PluginBytes> {
  const dir = join(opts.cacheDir, 'wasm');
  const index = join(dir, `url-${sha256(new TextEncoder().encode(entry.path))}`);
  // A pinned hash, or the hash this URL had last time, may already be on disk.
  const known = pin ?? (await readFile(index, 'utf8').then((s) => s.trim(), () => undefined));
  if (known) {
    const cached = await readFile(join(dir, `${known}.wasm`)).catch(() => null);
    if (cached && sha256(cached) === known) {
      opts.log.debug({ plugin: entry.name, url: entry.path, sha256: known }, 'wasm plugin loaded from cache');
      return { bytes: new Uint8Array(cached), sha256: known, source: entry.path };
    }
  }
  const bytes = await download(entry.name, entry.path, entry.allow_private_url === true);
  const hash = sha256(bytes);
  if (pin !== undefined && hash !== pin) return { bytes, sha256: hash, source: entry.path }; // caller refuses
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${hash}.${process.pid}.tmp`);
  await writeFile(tmp, bytes);
  await rename(tmp, join(dir, `${hash}.wasm`)); // atomic: a crash never leaves a half file under the hash
  await writeFile(index, `${hash}\n`);
  opts.log.info({ plugin: entry.name, url: entry.path, sha256: hash, bytes: bytes.length }, 'wasm plugin downloaded');
  return { bytes, sha256: hash, source: entry.path };
}

// Downloads are rare (start-up, reload): a connection pool per download, closed after it.
function downloadAgent(allowPrivate: boolean): Agent {
  return new Agent({ connections: 1, ...(allowPrivate ? {} : { connect: { lookup: publicOnlyLookup } }) });
}

async function download(name: string, url: string, allowPrivate: boolean): Promise<Uint8Array> {
  const agent = downloadAgent(allowPrivate);
  try {
    return await downloadWith(agent, name, url, allowPrivate);
  } finally {
    void agent.close();
  }
}

async function downloadWith(agent: Agent, name: string, url: string, allowPrivate: boolean): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS);
  let current = url;
  const fail = (why: string): Error => new Error(`wasm plugin "${name}": cannot download ${url}: ${why}`);
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      // Every hop is checked: a public URL may redirect to a private one.
      if (!allowPrivate) checkLiteralHost(new URL(current).hostname);
      res = await fetch(current, { redirect: 'manual', signal, dispatcher: agent, headers: { accept: 'application/wasm, application/octet-stream' } });
    } catch (err) {
      if (signal.aborted) throw fail(`timed out after ${DOWNLOAD_TIMEOUT_MS} ms`);
      // fetch reports connection problems as "fetch failed" with the reason as its cause.
      const cause = (err as Error & { cause?: Error }).cause;
      throw fail(cause?.message ?? (err as Error).message);
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      const loc = res.headers.get('location');
      if (!loc) throw fail(`HTTP ${res.status} without a Location header`);
      if (hop >= DOWNLOAD_MAX_REDIRECTS) throw fail(`more than ${DOWNLOAD_MAX_REDIRECTS} redirects`);
      current = new URL(loc, current).toString();
      if (!isUrl(current)) throw fail(`redirect to a non-http(s) URL ${current}`);
      continue;
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw fail(`HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > DOWNLOAD_MAX_BYTES) {
      await res.body?.cancel();
      throw fail(`${declared} bytes is over the ${DOWNLOAD_MAX_BYTES} byte limit`);
    }
    const parts: Uint8Array[] = [];
    let total = 0;
    try {
      for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
        total += part.length;
        if (total > DOWNLOAD_MAX_BYTES) {
          await res.body?.cancel().catch(() => undefined);
          throw fail(`body is over the ${DOWNLOAD_MAX_BYTES} byte limit`);
        }
        parts.push(part);
      }
    } catch (err) {
      if (signal.aborted) throw fail(`timed out after ${DOWNLOAD_TIMEOUT_MS} ms`);
      throw err instanceof Error && err.message.startsWith(`wasm plugin "${name}"`) ? err : fail((err as Error).message);
    }
    const out = new Uint8Array(total);
    let off = 0;
    for (const p of parts) { out.set(p, off); off += p.length; }
    return out;
  }
}
