/**
 * The contract's export/import table (section 3.1) checked against a parsed module. Each problem
 * is one sentence naming the export or import and what was expected, so a start-up error tells
 * the plugin author exactly what to change.
 */
import { formatType, parseModule, type ExportEntry, type FuncType, type ModuleInfo, type ValType } from './binary.js';
import { WASI_FUNCTIONS } from './imports/wasi.js';

/** Hook exports the contract knows, in the order the pipeline runs them. */
export const HOOK_EXPORTS = ['http_pre_hook', 'http_intercept', 'http_post_hook', 'http_stream_chunk_hook', 'pre_hook', 'post_hook'] as const;
export type HookExport = (typeof HOOK_EXPORTS)[number];

/** What the host learned about a valid module: which names to call and how. */
export interface AbiShape {
  malloc: 'malloc' | 'plugin_malloc';
  free: { name: 'free' | 'plugin_free'; arity: 1 | 2 } | null;
  hooks: HookExport[];
  getName: boolean;
  init: boolean;
  cleanup: boolean;
  start: '_initialize' | '_start' | null;
  abortImport: boolean;
}

export interface Verdict { shape: AbiShape | null; problems: string[] }

const sig = (params: ValType[], results: ValType[]): FuncType => ({ params, results });
const HOOK_SIG = sig(['i32', 'i32'], ['i64']);
const EXPECTED: Record<string, FuncType> = {
  malloc: sig(['i32'], ['i32']),
  plugin_malloc: sig(['i32'], ['i32']),
  get_name: sig([], ['i64']),
  init: sig(['i32', 'i32'], ['i32']),
  cleanup: sig([], ['i32']),
  _initialize: sig([], []),
  _start: sig([], []),
  ...Object.fromEntries(HOOK_EXPORTS.map((h) => [h, HOOK_SIG])),
};
const ABORT_SIG = sig(['i32', 'i32', 'i32', 'i32'], []);

export function checkModule(info: ModuleInfo): Verdict {
  const problems: string[] = [];
  const byName = new Map<string, ExportEntry>();
  for (const e of info.exports) byName.set(e.name, e);

  const fn = (name: string): ExportEntry | undefined => {
    const e = byName.get(name);
    if (!e) return undefined;
    if (e.kind !== 'func') { problems.push(`export "${name}" must be a function, found a ${e.kind}`); return undefined; }
    const want = EXPECTED[name];
    if (want && !sameType(e.type, want)) {
      problems.push(`export "${name}" has signature ${formatType(e.type)}, expected ${formatType(want)}`);
      return undefined;
    }
    return e;
  };

  const mem = byName.get('memory');
  if (!mem) problems.push('no "memory" export: the host cannot exchange data with the plugin');
  else if (mem.kind !== 'memory') problems.push(`export "memory" must be a memory, found a ${mem.kind}`);
  else if (mem.limits?.memory64) problems.push('export "memory" is a 64-bit memory; only 32-bit memories are supported');

  let malloc: AbiShape['malloc'] | null = null;
  if (fn('plugin_malloc')) malloc = 'plugin_malloc';
  else if (fn('malloc')) malloc = 'malloc';
  else if (!byName.has('malloc') && !byName.has('plugin_malloc')) {
    problems.push('no allocator: export "malloc" or "plugin_malloc" with signature (i32) -> i32');
  }

  // Pair the free with the allocator: libc's free must not release plugin_malloc blocks.
  let free: AbiShape['free'] = null;
  const freeName = malloc === 'plugin_malloc' && byName.has('plugin_free') ? 'plugin_free' : byName.has('free') && malloc !== 'plugin_malloc' ? 'free' : null;
  if (freeName) {
    const e = byName.get(freeName)!;
    const t = e.type;
    if (e.kind !== 'func') problems.push(`export "${freeName}" must be a function, found a ${e.kind}`);
    else if (t && t.results.length === 0 && (sameType(t, sig(['i32'], [])) || sameType(t, sig(['i32', 'i32'], [])))) {
      free = { name: freeName, arity: t.params.length as 1 | 2 };
    } else {
      problems.push(`export "${freeName}" has signature ${formatType(t)}, expected (i32) -> () or (i32, i32) -> ()`);
    }
  }

  const hooks = HOOK_EXPORTS.filter((h) => fn(h) !== undefined);
  const getName = fn('get_name') !== undefined;
  const init = fn('init') !== undefined;
  const cleanup = fn('cleanup') !== undefined;
  const start = fn('_initialize') ? '_initialize' : fn('_start') ? '_start' : null;

  let abortImport = false;
  for (const imp of info.imports) {
    const what = `import "${imp.module}.${imp.name}"`;
    if (imp.kind !== 'func') {
      problems.push(`${what} is a ${imp.kind}; the gateway provides only functions (wasi_snapshot_preview1.*, env.abort)`);
    } else if (imp.module === 'wasi_snapshot_preview1') {
      if (!WASI_FUNCTIONS.has(imp.name)) problems.push(`${what} is not a wasi_snapshot_preview1 function the gateway provides`);
    } else if (imp.module === 'env' && imp.name === 'abort') {
      if (!sameType(imp.type, ABORT_SIG)) problems.push(`${what} has signature ${formatType(imp.type)}, expected ${formatType(ABORT_SIG)}`);
      abortImport = true;
    } else {
      problems.push(`${what} is not provided by the gateway (only wasi_snapshot_preview1.* and env.abort are)`);
    }
  }

  if (problems.length > 0 || !malloc) return { shape: null, problems };
  return { shape: { malloc, free, hooks, getName, init, cleanup, start, abortImport }, problems };
}

function sameType(a: FuncType | undefined, b: FuncType): boolean {
  if (!a) return false;
  return a.params.length === b.params.length && a.results.length === b.results.length &&
    a.params.every((t, i) => t === b.params[i]) && a.results.every((t, i) => t === b.results[i]);
}

/** What `gatehouse plugin inspect` prints: the module's surface and the host's verdict. */
export interface Inspection {
  imports: { module: string; name: string; kind: string; signature?: string }[];
  exports: { name: string; kind: string; signature?: string; memory?: { min: number; max: number | null } }[];
  abi: AbiShape | null;
  problems: string[];
}

export function inspectWasm(bytes: Uint8Array): Inspection {
  let info: ModuleInfo;
  try {
    info = parseModule(bytes);
  } catch (err) {
    return { imports: [], exports: [], abi: null, problems: [(err as Error).message] };
  }
  const verdict = checkModule(info);
  return {
    imports: info.imports.map((i) => ({ module: i.module, name: i.name, kind: i.kind, ...(i.type ? { signature: formatType(i.type) } : {}) })),
    exports: info.exports.map((e) => ({
      name: e.name,
      kind: e.kind,
      ...(e.type ? { signature: formatType(e.type) } : {}),
      ...(e.limits ? { memory: { min: e.limits.min, max: e.limits.max } } : {}),
    })),
    abi: verdict.shape,
    problems: verdict.problems,
  };
}
