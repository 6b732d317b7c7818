/**
 * `gatehouse plugin test FILE.wasm`: the conformance check. It loads the module through the real
 * host and checks, in this order:
 *   1. the module passes the start-up check (inspect) and loads (start, `init`);
 *   2. every exported hook, given the canonical sample input, returns output of its shape;
 *   3. context values survive: hooks run in lifecycle order, each given the context merged from
 *      what the previous ones returned (as the gateway does); a hook that returns another's key
 *      as null (a removal) or changes the gateway's probe value fails;
 *   4. 10,000 calls do not grow memory without bound (a warning for AssemblyScript's stub runtime,
 *      which cannot free, and a failure for anything else).
 * Each check prints one PASS/WARN/FAIL line; the exit code is 1 when any failed.
 */
import { readFile } from 'node:fs/promises';
import { inspectWasm } from '../../plugins/wasm/index.js';
import { DEFAULT_MEMORY_MB, HIGH_WATER_RATIO } from '../../plugins/wasm/limits.js';
import { callHook, LIFECYCLE } from './hooks.js';
import { ZERO_MALLOC_NOTE } from './inspect.js';
import { loadForTools } from './load.js';
import { SAMPLE_POST_ERROR, sampleFor } from './samples.js';
import { bold, dim, duration, err, FAIL, out, PASS, Progress, WARN } from './term.js';

export const LEAK_CALLS = 10_000;
/** Growth over the measured calls below this is noise (allocator slack, a grown free list). */
const LEAK_SLACK_BYTES = 4 * 1048576;
/** Room for the leak check to watch growth without the host recycling the instance. */
const TEST_MEMORY_MB = 1024;
const PROBE_KEY = 'conformance.probe';
/** Eight printable ASCII characters as UTF-16LE. */
const UTF16_TEXT = /(?:[\x20-\x7e]\x00){8}/;

type Status = 'pass' | 'warn' | 'fail';
export interface Check { status: Status; what: string; detail?: string }

export async function conformance(file: string, opts: { calls?: number; config?: Record<string, unknown> } = {}): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (status: Status, what: string, detail?: string): void => {
    checks.push({ status, what, detail });
    const tag = status === 'pass' ? PASS() : status === 'warn' ? WARN() : FAIL();
    out(`${tag} ${what}`);
    if (detail) for (const l of detail.split('\n')) out(`     ${dim(l)}`);
  };

  const buf = await readFile(file).catch((e: Error) => { throw new Error(`cannot read ${file}: ${e.message}`); });
  const ins = inspectWasm(new Uint8Array(buf));
  if (!ins.abi) {
    add('fail', 'the module passes the gateway\'s start-up check', ins.problems.map((p) => `- ${p}`).join('\n'));
    return checks;
  }
  const hooks = ins.abi.hooks as string[];
  // AssemblyScript imports env.abort unless built with `--use abort=` (as Bifrost's example is); its
  // string literals are UTF-16 in the data, which C, Rust and Go modules do not have.
  const looksAssemblyScript = ins.imports.some((i) => i.module === 'env' && i.name === 'abort') || UTF16_TEXT.test(Buffer.from(buf).toString('latin1'));
  add('pass', `the module passes the start-up check (hooks: ${hooks.join(', ') || 'none'})`);

  let loaded;
  try {
    loaded = await loadForTools(file, { config: opts.config ?? {}, memoryMb: TEST_MEMORY_MB });
  } catch (e) {
    add('fail', 'the module loads (instantiate, start, init)', (e as Error).message);
    return checks;
  }
  const { plugin } = loaded;
  add('pass', `loads and initialises in ${duration(loaded.loadMs)}${plugin.reportedName ? ` (get_name: "${plugin.reportedName}")` : ''}`);

  try {
    // 2. Each hook alone, with its canonical input (post_hook twice: a response, then an error).
    const cases: Array<[string, string, Record<string, unknown>]> = [];
    for (const h of LIFECYCLE) if (hooks.includes(h)) cases.push([h, h, sampleFor(h)]);
    if (hooks.includes('post_hook')) cases.push(['post_hook', 'post_hook (provider error)', structuredClone(SAMPLE_POST_ERROR)]);
    let zeroMalloc = plugin.raw.mallocReturnedZero();
    for (const [hook, label, input] of cases) {
      const r = await callHook(plugin, hook, JSON.stringify(input));
      zeroMalloc ||= plugin.raw.mallocReturnedZero();
      if (r.failure) add('fail', `${label}: the call fails`, r.failure);
      else if (r.shapeError) add('fail', `${label}: output does not have the hook's shape`, r.shapeError);
      else add('pass', `${label}: ${r.output === null ? 'no output (pass-through)' : 'output parses and has the hook\'s shape'} ${dim(duration(r.ms))}`);
    }

    if (zeroMalloc) add('warn', 'the allocator hands out address 0', ZERO_MALLOC_NOTE);

    // 3. Context survives a whole request: the gateway merges, so only a null can remove a key.
    if (hooks.length > 0) contextCheck(await contextRun(plugin, hooks), add);

    // 4. Memory over many calls.
    await leakCheck(plugin, hooks, opts.calls ?? LEAK_CALLS, looksAssemblyScript, add);
  } finally {
    await plugin.cleanup?.();
  }
  if (loaded.printed.length) {
    err(dim(`plugin output (${loaded.printed.length} lines, first 10):`));
    for (const l of loaded.printed.slice(0, 10)) err(`  ${l}`);
  }
  return checks;
}

interface ContextRun { lost: string[]; changed: string[]; failures: string[] }

async function contextRun(plugin: Awaited<ReturnType<typeof loadForTools>>['plugin'], hooks: string[]): Promise<ContextRun> {
  const token = `probe-${Math.random().toString(36).slice(2)}`;
  let ctx: Record<string, unknown> = { request_id: 'conformance-0001', [PROBE_KEY]: token };
  const seenFrom = new Map<string, string>([[PROBE_KEY, 'the gateway'], ['request_id', 'the gateway']]);
  const run: ContextRun = { lost: [], changed: [], failures: [] };
  for (const h of LIFECYCLE) {
    if (!hooks.includes(h)) continue;
    const input = sampleFor(h);
    input.context = ctx;
    const r = await callHook(plugin, h, JSON.stringify(input));
    if (r.failure || r.shapeError) { run.failures.push(`${h}: ${r.failure ?? r.shapeError}`); continue; }
    if (r.output === null) continue;
    const next = (JSON.parse(r.output) as { context?: unknown }).context;
    if (typeof next !== 'object' || next === null || Array.isArray(next)) continue; // no context: unchanged
    const nc = next as Record<string, unknown>;
    // The gateway merges: a key left out is kept, so only a `null` (a removal) can lose a value.
    for (const k of Object.keys(nc)) {
      if (nc[k] === null && k in ctx && seenFrom.get(k) !== h) run.lost.push(`${h} removed "${k}" (set by ${seenFrom.get(k) ?? 'an earlier hook'}) by returning it as null`);
    }
    if (PROBE_KEY in nc && nc[PROBE_KEY] !== token && nc[PROBE_KEY] !== null) run.changed.push(`${h} changed "${PROBE_KEY}" to ${JSON.stringify(nc[PROBE_KEY])}`);
    for (const k of Object.keys(nc)) if (!seenFrom.has(k)) seenFrom.set(k, h);
    for (const k of Object.keys(nc)) {
      if (k === 'request_id') continue;
      if (nc[k] === null) delete ctx[k];
      else ctx[k] = nc[k];
    }
  }
  return run;
}

function contextCheck(r: ContextRun, add: (s: Status, w: string, d?: string) => void): void {
  const what = 'context values survive every hook of a request';
  if (r.failures.length) add('fail', what, r.failures.join('\n'));
  else if (r.lost.length || r.changed.length) {
    add('fail', what, [...r.lost, ...r.changed, 'return only your own keys (or the context you were given); null removes a key'].join('\n'));
  } else add('pass', what);
}

async function leakCheck(
  plugin: Awaited<ReturnType<typeof loadForTools>>['plugin'], hooks: string[], calls: number, assemblyScript: boolean,
  add: (s: Status, w: string, d?: string) => void,
): Promise<void> {
  const what = `memory stays bounded over ${calls.toLocaleString('en-US')} calls`;
  if (hooks.length === 0) return;
  const inputs = hooks.map((h) => [h, JSON.stringify(sampleFor(h))] as const);
  const warmup = Math.min(200, Math.floor(calls / 10));
  const progress = new Progress(`calling hooks ${calls.toLocaleString('en-US')} times`, calls);
  let before = 0;
  let mid = 0;
  const t0 = performance.now();
  try {
    for (let i = 0; i < calls; i++) {
      if (i === warmup) before = plugin.raw.memoryBytes() ?? 0;
      if (i === Math.floor(calls / 2)) mid = plugin.raw.memoryBytes() ?? 0;
      const [h, input] = inputs[i % inputs.length]!;
      await plugin.raw.call(h, input);
      if ((i & 255) === 0) progress.tick(i);
    }
  } catch (e) {
    progress.end();
    add('fail', what, `a call failed: ${(e as Error).message}`);
    return;
  }
  progress.end();
  const perCall = (performance.now() - t0) / calls;
  const after = plugin.raw.memoryBytes() ?? 0;
  const grown = after - before;
  const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;
  const summary = `memory ${mib(before)} -> ${mib(mid)} -> ${mib(after)}; ${duration(perCall)} per call`;
  // Growth after the warm-up, past allocator slack, scales with the number of calls. (Runtimes
  // grow in doublings, so the midpoint may equal the end even for a leak.)
  if (grown <= LEAK_SLACK_BYTES) {
    add('pass', `${what} ${dim(`(${summary})`)}`);
    return;
  }
  const leak = grown / (calls - warmup);
  const cap = DEFAULT_MEMORY_MB * 1048576 * HIGH_WATER_RATIO;
  const detail = [
    summary,
    `about ${Math.round(leak).toLocaleString('en-US')} bytes kept per call: with the default 64 MiB cap the gateway`,
    `recycles the instance (and re-runs init, losing its state) every ~${Math.max(1, Math.floor(cap / leak)).toLocaleString('en-US')} calls.`,
  ];
  if (assemblyScript) {
    detail.push('This looks like AssemblyScript built with --runtime stub, which never frees:',
      'build with the default runtime (incremental), as `gatehouse plugin build` does.');
    add('warn', `${what}: memory grows with every call`, detail.join('\n'));
  } else {
    detail.push('Free what you allocate (including the output block after the host frees it).');
    add('fail', `${what}: memory grows with every call`, detail.join('\n'));
  }
}

export function summarise(checks: Check[]): number {
  const n = (s: Status): number => checks.filter((c) => c.status === s).length;
  const failed = n('fail');
  out();
  out(bold(`${failed === 0 ? PASS() : FAIL()} ${n('pass')} passed, ${n('warn')} warning${n('warn') === 1 ? '' : 's'}, ${failed} failed`));
  return failed === 0 ? 0 : 1;
}
