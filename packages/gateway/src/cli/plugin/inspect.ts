/**
 * `gatehouse plugin inspect FILE.wasm [--json]`: the module's imports and exports and the host's
 * verdict (hooks, allocator, free arity, WASI, every problem that stops it loading), from the
 * same check the gateway runs at start-up (inspectWasm), so the two can never disagree.
 */
import { readFile } from 'node:fs/promises';
import { inspectWasm, type Inspection } from '../../plugins/wasm/index.js';
import { HOOK_EXPORTS } from '../../plugins/wasm/validate.js';
import { loadForTools } from './load.js';
import { sampleFor } from './samples.js';
import { bold, cyan, dim, FAIL, green, out, PASS, red, WARN } from './term.js';

export interface Report extends Inspection {
  file: string;
  size: number;
  /** The verdict in words: one line per fact. */
  verdict: {
    loads: boolean;
    hooks: string[];
    allocator: string | null;
    free: string | null;
    wasi: boolean;
    start: string | null;
    lifecycle: string[];
    notes: string[];
  };
}

export async function inspectFile(file: string): Promise<Report> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  const bytes = new Uint8Array(buf.byteLength);
  bytes.set(buf);
  const ins = inspectWasm(bytes);
  const abi = ins.abi;
  const names = new Set(ins.exports.map((e) => e.name));
  const notes: string[] = [];
  const wasi = ins.imports.some((i) => i.module === 'wasi_snapshot_preview1');
  const hooks = abi ? abi.hooks : HOOK_EXPORTS.filter((h) => names.has(h));
  if (abi && abi.hooks.length === 0) notes.push('no hook is exported: the plugin loads but does nothing');
  if (abi?.hooks.includes('http_intercept') && !abi.hooks.includes('http_pre_hook')) {
    notes.push('http_intercept is the v1.3 name; it runs as http_pre_hook (rename it when you can)');
  }
  if (abi && !abi.free) notes.push('no free export: input and output blocks are never released (fine for arena or GC allocators)');
  if (ins.imports.some((i) => i.module === 'env' && i.name === 'abort')) notes.push('imports env.abort (AssemblyScript): an abort becomes a plugin failure with its message');
  if (abi && ins.problems.length === 0 && await mallocGivesZero(file, abi.hooks)) notes.push(ZERO_MALLOC_NOTE);
  const lifecycle = ['get_name', 'init', 'cleanup'].filter((n) => names.has(n));
  return {
    file,
    size: bytes.length,
    ...ins,
    verdict: {
      loads: ins.problems.length === 0 && abi !== null,
      hooks,
      allocator: abi ? abi.malloc : names.has('plugin_malloc') ? 'plugin_malloc' : names.has('malloc') ? 'malloc' : null,
      free: abi?.free ? `${abi.free.name}, ${abi.free.arity === 2 ? 'two arguments (ptr, len)' : 'one argument (ptr)'}` : null,
      wasi,
      start: abi?.start ?? (names.has('_initialize') ? '_initialize' : names.has('_start') ? '_start' : null),
      lifecycle,
      notes,
    },
  };
}

/** Said by `inspect` and `test` when the module's malloc hands out address 0. */
export const ZERO_MALLOC_NOTE = 'malloc returned address 0: valid memory, so the gateway accepts it, but an allocator that '
  + 'starts at 0 writes over the module\'s static data (strings, tables) and the stack; start the heap at __heap_base';

/**
 * Loads the module (start-up and `init` with `{}`) and, when that allocated nothing, calls its
 * first hook with the sample input, to see whether malloc hands out address 0. Any failure here
 * is the test tool's business: the answer is then "not seen".
 */
async function mallocGivesZero(file: string, hooks: readonly string[]): Promise<boolean> {
  let loaded;
  try {
    loaded = await loadForTools(file);
  } catch {
    return false;
  }
  const { plugin } = loaded;
  try {
    if (!plugin.raw.mallocReturnedZero() && hooks.length > 0) await Promise.resolve(plugin.raw.call(hooks[0]!, JSON.stringify(sampleFor(hooks[0]!)))).catch(() => null);
    return plugin.raw.mallocReturnedZero();
  } finally {
    await Promise.resolve(plugin.cleanup?.()).catch(() => undefined);
  }
}

export function printReport(r: Report): void {
  const v = r.verdict;
  out(`${bold(r.file)} ${dim(`(${r.size} bytes)`)}`);
  out();
  out(bold(`Imports (${r.imports.length})`));
  if (r.imports.length === 0) out(dim('  none'));
  for (const i of r.imports) out(`  ${i.module}.${cyan(i.name)} ${dim(i.signature ?? i.kind)}`);
  out(bold(`Exports (${r.exports.length})`));
  for (const e of r.exports) {
    const detail = e.memory ? `memory, ${e.memory.min} pages min, ${e.memory.max === null ? 'no max' : `${e.memory.max} max`}` : e.signature ?? e.kind;
    out(`  ${cyan(e.name)} ${dim(detail)}`);
  }
  out();
  out(bold('ABI'));
  out(`  hooks:     ${v.hooks.length ? v.hooks.join(', ') : 'none'}`);
  out(`  allocator: ${v.allocator ?? red('missing')}`);
  out(`  free:      ${v.free ?? 'none'}`);
  out(`  lifecycle: ${v.lifecycle.length ? v.lifecycle.join(', ') : 'none'}${v.start ? `; start: ${v.start}` : ''}`);
  out(`  WASI:      ${v.wasi ? 'yes (wasi_snapshot_preview1: no files or sockets; output goes to the gateway log)' : 'no'}`);
  for (const n of v.notes) out(`  ${WARN()} ${n}`);
  out();
  if (v.loads) {
    out(`${PASS()} ${green('this module loads in the gateway')}`);
  } else {
    out(`${FAIL()} ${red(`this module would not load (${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}):`)}`);
    for (const p of r.problems) out(`  - ${p}`);
  }
}

export async function inspectCommand(file: string, json: boolean): Promise<number> {
  const r = await inspectFile(file);
  if (json) out(JSON.stringify(r, null, 2));
  else printReport(r);
  return r.verdict.loads ? 0 : 1;
}
