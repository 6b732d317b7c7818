/**
 * V8 flags the gateway runs with, measured side by side (bench/README.md):
 * - a young generation capped at 8 MB semi-spaces (V8's default grows to 16): peak RSS 5-15 MB
 *   lower under load (WASM inline 126 against 146-175 MiB), throughput unchanged;
 * - the old generation may grow to 2x its live size between full collections (V8 picks 1.1-4x by
 *   itself and, under streaming load with a WASM worker plugin, let it reach ~4x): that variant's
 *   peak RSS 184-189 -> 144-146 MiB for ~5 % of its throughput; no measurable change for the
 *   others (no plugin and WASM inline, chat and stream) nor for p99 at 500 req/s.
 * Heap flags only act at start-up, so they are passed on the command line: by the `gatehouse`
 * shebang and `npm start` (written out there, keep them in step; a test checks), to cluster
 * workers (cluster.ts) and by the benchmarks.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--heap-growing-percent=100'];

/** `execArgv` plus any of our flags it does not already set. */
export function withNodeFlags(execArgv: readonly string[]): string[] {
  const out = [...execArgv];
  for (const f of NODE_FLAGS) {
    const name = f.split('=')[0]!;
    if (!out.some((a) => a === name || a.startsWith(`${name}=`))) out.push(f);
  }
  return out;
}
