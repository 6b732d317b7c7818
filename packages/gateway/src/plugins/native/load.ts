import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Plugin, PluginEntryConfig, PluginLoadOptions, PluginLoader } from '../plugin.js';
import { adaptNativeModule } from './adapt.js';

/** Native hooks get this deadline unless `limits.timeout_ms` says otherwise: a hook must never hang a request. */
export const NATIVE_HOOK_TIMEOUT_MS = 10_000;

/**
 * Loads an ES module plugin. `.ts`/`.mts` files are bundled on load with esbuild (no build step
 * for the user); bundling, rather than transpiling one file, lets the plugin import its own
 * `.ts` helpers and resolves its packages from where the source lives.
 */
export const loadNativePlugin: PluginLoader = async (entry: PluginEntryConfig, opts: PluginLoadOptions): Promise<Plugin> => {
  const file = resolve(opts.baseDir, entry.path);
  const ext = extname(file);
  const url = ext === '.ts' || ext === '.mts' || ext === '.cts' ? await transpile(file, opts.cacheDir) : pathToFileURL(file).href;
  const mod = (await import(url)) as Record<string, unknown>;
  return adaptNativeModule(mod, entry, opts.log);
};

async function transpile(file: string, cacheDir: string): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [file],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.text ?? '';
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const dir = join(cacheDir, 'native');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${basename(file, extname(file))}-${hash}.mjs`);
  let existing: string | undefined;
  try { existing = readFileSync(out, 'utf8'); } catch { /* not cached yet */ }
  if (existing !== code) writeFileSync(out, code);
  return pathToFileURL(out).href;
}
