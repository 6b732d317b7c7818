/**
 * V8 flags the gateway runs with. A young generation capped at 8 MB semi-spaces (V8's default
 * grows to 16) kept peak RSS 5-15 MB lower under load with no measurable throughput change
 * (bench: gh-none and gh-wasm-inline, chat and stream, side by side). Heap flags only act at
 * start-up, so they are passed on the command line: by the `gatehouse` shebang and `npm start`
 * (written out there, keep them in step), to cluster workers (cluster.ts) and by the benchmarks.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

/** `execArgv` plus any of our flags it does not already set. */
export function withNodeFlags(execArgv: readonly string[]): string[] {
  const out = [...execArgv];
  for (const f of NODE_FLAGS) {
    const name = f.split('=')[0]!;
    if (!out.some((a) => a === name || a.startsWith(`${name}=`))) out.push(f);
  }
  return out;
}
