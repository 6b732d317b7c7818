/**
 * V8 flags the gateway runs with, measured side by side (bench/README.md):
 * - a young generation capped at 8 MB semi-spaces (V8's default grows to 16): peak RSS 5-15 MB
 *   lower under load (WASM inline 126 against 146-175 MiB), throughput unchanged;
 * - the old generation may grow to 2x its live size between full collections (V8 picks 1.1-4x by
 *   itself and, under streaming load with a WASM worker plugin, let it reach ~4x): that variant's
 *   peak RSS 184-189 -> 144-146 MiB for ~5 % of its throughput; no measurable change for the
 *   others (no plugin and WASM inline, chat and stream) nor for p99 at 500 req/s;
 * - no memory reducer: V8 otherwise shrinks an idle heap, and the traffic that follows a lull pays
 *   for regrowing it. After 35 s idle, the first 5 s at 500 req/s took 14-18 % of a core instead
 *   of 26-27 %, with p99 1.2-1.3 ms instead of 2.6-3.3 ms streaming (three alternating runs). The
 *   cost is that an idle gateway keeps the heap its last load needed (peak RSS stays the bound).
 * Heap flags only act at start-up, so they are passed on the command line: by the `gatehouse`
 * shebang and `npm start` (written out there, keep them in step; a test checks), to cluster
 * workers (cluster.ts) and by the benchmarks.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--heap-growing-percent=100', '--no-memory-reducer'];

/** `execArgv` plus any of our flags it does not already set (`--x` and `--no-x` name one flag). */
export function withNodeFlags(execArgv: readonly string[]): string[] {
  const out = [...execArgv];
  const set = new Set(execArgv.map(flagName));
  for (const f of NODE_FLAGS) if (!set.has(flagName(f))) out.push(f);
  return out;
}

function flagName(arg: string): string {
  const name = arg.split('=')[0]!.replace(/_/g, '-');
  return name.startsWith('--no-') ? `--${name.slice(5)}` : name;
}
