// Micro-benchmark: one WASM hook call with a ~1 KB input, per plugin and isolation mode, and the
// cost of fuel metering. Run: node --import tsx bench/micro/wasm-hook.ts [--rounds 10] [--calls 2000]
// Each sample is one full host round trip (build the JSON, malloc, copy, call, read, parse, apply).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import type { PluginEntryConfig } from '../../packages/gateway/src/plugins/plugin.js';
import { parseModule } from '../../packages/gateway/src/plugins/wasm/binary.js';
import { loadWasmPlugin, type WasmPlugin } from '../../packages/gateway/src/plugins/wasm/index.js';
import { GuestInstance } from '../../packages/gateway/src/plugins/wasm/instance.js';
import { DEFAULT_FUEL } from '../../packages/gateway/src/plugins/wasm/limits.js';
import { meteredModule } from '../../packages/gateway/src/plugins/wasm/meter.js';
import { checkModule } from '../../packages/gateway/src/plugins/wasm/validate.js';
import { RequestContext } from '../../packages/gateway/src/schema/context.js';
import type { LLMRequest } from '../../packages/gateway/src/schema/request.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROUNDS = arg('rounds', 10);
const CALLS = arg('calls', 2000);
const fixtures = fileURLToPath(new URL('../../test/fixtures/wasm/', import.meta.url));
const log = { info() {}, warn() {}, error() {}, debug() {} };

// ~1 KB of pre_hook input: a chat request with a few messages.
const request: LLMRequest = {
  request_type: 'chat_completion', provider: 'openai', model: 'gpt-4o',
  input: Array.from({ length: 6 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `message number ${i}: `.repeat(6) })),
  params: { temperature: 0.7, max_tokens: 256 }, fallbacks: ['anthropic/claude-3-5-haiku'],
};
const inputBytes = Buffer.byteLength(JSON.stringify({ context: { request_id: 'bench-1' }, request }));

function stats(samples: number[]): { median: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, p99: s[Math.floor(s.length * 0.99)]! };
}

async function sample(call: () => unknown): Promise<number[]> {
  const out: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < CALLS; i++) {
      const t = process.hrtime.bigint();
      const x = call();
      if (x instanceof Promise) await x;
      out.push(Number(process.hrtime.bigint() - t) / 1000);
    }
  }
  return out;
}

const entry = (path: string, isolation: 'inline' | 'worker'): PluginEntryConfig => ({
  name: path, enabled: true, path, config: {}, placement: 'pre_builtin', order: 0, on_error: 'fail_closed', limits: {}, isolation, instances: 1,
});

const rows: string[] = [];
const report = (what: string, s: number[]): void => {
  const { median, p99 } = stats(s);
  rows.push(`| ${what} | ${median.toFixed(1)} | ${p99.toFixed(1)} |`);
  console.log(`${what.padEnd(48)} median ${median.toFixed(1).padStart(7)} µs   p99 ${p99.toFixed(1).padStart(7)} µs`);
};

console.log(`pre_hook input ${inputBytes} bytes; ${ROUNDS} rounds x ${CALLS} calls; node ${process.version}`);
const plugins: [string, string][] = [
  ['AssemblyScript (incremental runtime)', 'as-hello/as-hello.wasm'],
  ['AssemblyScript (stub runtime)', 'as-hello/as-hello-stub.wasm'],
  ['Rust (serde_json)', 'rust-hello/rust-hello.wasm'],
];
for (const isolation of ['inline', 'worker'] as const) {
  for (const [label, path] of plugins) {
    const p = (await loadWasmPlugin(entry(path, isolation), { baseDir: fixtures, cacheDir: '/tmp', log })) as WasmPlugin;
    const call = (): unknown => p.preLLMHook!(new RequestContext('bench-1'), request);
    await sample(call); // warm-up
    report(`${label}, ${isolation}`, await sample(call));
    await p.cleanup!();
  }
}

// Fuel metering: the guest's own run time (no host JSON work) with and without the instrumentation.
console.log('\nfuel metering overhead (guest call only, same input):');
const input = JSON.stringify({ context: { request_id: 'bench-1' }, request: { ...request, fallbacks: [] } });
for (const [label, path] of plugins) {
  const bytes = new Uint8Array(readFileSync(fixtures + path));
  const { shape } = checkModule(parseModule(bytes));
  const base = { name: label, configJson: '{}', memoryCapBytes: 1 << 30, highWaterBytes: 1 << 30, print() {} };
  const plain = GuestInstance.create(new WebAssembly.Module(bytes), shape!, { ...base, fuel: 0 });
  const metered = GuestInstance.create(new WebAssembly.Module(await meteredModule(bytes, DEFAULT_FUEL, null) as Uint8Array<ArrayBuffer>), shape!, { ...base, fuel: DEFAULT_FUEL });
  const run = (g: GuestInstance) => () => g.hookText('pre_hook', input);
  // Interleave rounds so drift affects both equally.
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    a.push(...(await sample(run(plain))).slice(0, CALLS));
    b.push(...(await sample(run(metered))).slice(0, CALLS));
  }
  const sa = stats(a);
  const sb = stats(b);
  const used = DEFAULT_FUEL - ((metered as unknown as { fuelLeft(): number }).fuelLeft());
  console.log(`${label.padEnd(40)} plain ${sa.median.toFixed(1)} µs, metered ${sb.median.toFixed(1)} µs (${(((sb.median - sa.median) / sa.median) * 100).toFixed(1)}%), fuel used per call ${used}`);
  rows.push(`| fuel: ${label} | ${sa.median.toFixed(1)} plain | ${sb.median.toFixed(1)} metered (${(((sb.median - sa.median) / sa.median) * 100).toFixed(1)}%, ${used} fuel/call) |`);
}
console.log('\n| mode | median µs | p99 µs |\n|---|---|---|\n' + rows.join('\n'));
process.exit(0);
