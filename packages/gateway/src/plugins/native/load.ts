import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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

/** The running gateway's module tree (`src/` under tsx, `dist/` when built) and its package root. */
const RUNNING_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RUNNING_EXT = extname(fileURLToPath(import.meta.url));
const PACKAGE_ROOT = dirname(RUNNING_ROOT);

/**
 * A plugin that imports the gateway itself (`PluginRejection`, `definePlugin`, by relative path or
 * as the `gatehouse` package) must get the running gateway's modules, not a bundled copy: a copy
 * would drag in the whole server and give the plugin its own `PluginRejection` class.
 */
function runningGatewayModule(resolved: string): string | undefined {
  for (const tree of ['src', 'dist']) {
    const root = join(PACKAGE_ROOT, tree) + sep;
    if (!resolved.startsWith(root)) continue;
    const rel = relative(root, resolved).replace(/\.(d\.)?[cm]?[jt]s$/, '');
    return pathToFileURL(join(RUNNING_ROOT, rel + RUNNING_EXT)).href;
  }
  return undefined;
}

async function transpile(file: string, cacheDir: string): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    plugins: [{
      name: 'gatehouse-external',
      setup(b) {
        b.onResolve({ filter: /.*/ }, async (args) => {
          if (args.pluginData === 'inner' || args.kind === 'entry-point') return undefined;
          const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'inner' });
          if (r.errors.length > 0 || r.external) return undefined;
          const target = runningGatewayModule(r.path);
          return target ? { path: target, external: true } : undefined;
        });
      },
    }],
    // Bundled CommonJS dependencies may `require` Node built-ins, which ESM output lacks.
    banner: { js: "import { createRequire as __ghCreateRequire } from 'node:module'; const require = __ghCreateRequire(import.meta.url);" },
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
