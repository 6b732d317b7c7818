/**
 * Loads a .wasm file the way the gateway does (the real host: contract check, memory cap, fuel,
 * start-up and `init`), inline, for the `run` and `test` tools. What the plugin prints is kept
 * rather than logged, so the tools can show it after their own output.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import type { PluginLogger } from '../../plugins/plugin.js';
import { loadWasm, type WasmPlugin } from '../../plugins/wasm/index.js';

export interface Loaded {
  plugin: WasmPlugin;
  /** Lines the plugin wrote to stdout/stderr, and host warnings, in order. */
  printed: string[];
  loadMs: number;
}

export async function loadForTools(file: string, opts: { config?: Record<string, unknown>; memoryMb?: number } = {}): Promise<Loaded> {
  const path = resolve(file);
  const printed: string[] = [];
  const keep = (level: string) => (obj: Record<string, unknown> | string, msg?: string): void => {
    if (typeof obj === 'string') return void printed.push(`${level}: ${obj}`);
    if (obj.stream) return void printed.push(`[${String(obj.stream)}] ${msg ?? ''}`);
    if (level !== 'info' && level !== 'debug') printed.push(`${level}: ${msg ?? ''} ${JSON.stringify(obj)}`);
  };
  const log: PluginLogger = { info: keep('info'), warn: keep('warn'), error: keep('error'), debug: keep('debug') };
  const name = basename(path).replace(/\.wasm$/, '');
  const t0 = performance.now();
  const plugin = await loadWasm(
    {
      name, enabled: true, path, config: opts.config ?? {}, placement: 'pre_builtin', order: 0, on_error: 'fail_closed',
      limits: opts.memoryMb ? { memory_mb: opts.memoryMb } : {}, isolation: 'inline',
    },
    { baseDir: dirname(path), cacheDir: resolve(tmpdir(), 'gatehouse-plugin-cli'), log },
  );
  return { plugin, printed, loadMs: performance.now() - t0 };
}

/** Reads a JSON file named on the command line, with an error that names it. */
export async function readJsonFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} ${file} is not valid JSON: ${(e as Error).message}`);
  }
}
