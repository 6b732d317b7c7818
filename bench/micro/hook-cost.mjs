#!/usr/bin/env node
// Micro benchmark: the cost of one plugin hook call, as the gateway makes it.
//   - native (loaded through the gateway's native loader), WASM inline, WASM worker
//     on preLLMHook (request JSON of ~1 KB and ~64 KB) and httpTransportPreHook (body of 1 KB / 64 KB,
//     which the WASM host sends as base64);
//   - one stream chunk through a WASM chunk hook (inline and worker; plugin answers "no change", and
//     with {"echo": true} it returns the chunk, so the host parses its output too);
//   - fuel metering: worker isolation with fuel on (default budget) vs off (limits.fuel 0; inline
//     always meters), and the raw guest call of a metered vs unmetered build of the same module.
// Reports median and p99 in µs per call. Usage: node bench/micro/hook-cost.mjs [--quick] [--iterations N]
// Needs `npm run build` (uses packages/gateway/dist). Plugin: bench/plugins/every-hook.wasm.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BENCH = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = resolve(BENCH, '..');
const DIST = join(ROOT, 'packages/gateway/dist');
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const iArg = argv.indexOf('--iterations');
const ITER = iArg >= 0 ? Number(argv[iArg + 1]) : QUICK ? 500 : 5000;

const imp = (p) => import(pathToFileURL(join(DIST, p)).href);
const { RequestContext } = await imp('index.js');
const { loadNativePlugin } = await imp('plugins/native/load.js');
const { loadWasmPlugin } = await imp('plugins/wasm/index.js');
const { injectFuel } = await imp('plugins/wasm/meter.js');

const WASM = join(BENCH, 'plugins/every-hook.wasm');
const NATIVE = join(BENCH, 'plugins/every-hook.mjs');
const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return silent; } };
const loadOpts = { baseDir: BENCH, cacheDir: join(BENCH, 'results/tmp/cache'), log: silent };
const entry = (name, path, extra = {}) => ({
  name, enabled: true, path, config: {}, placement: 'post_builtin', order: 0, on_error: 'fail_closed',
  limits: {}, isolation: 'inline', ...extra,
});

// ------------------------------------------------------------------ inputs
function requestOfSize(bytes) {
  const messages = [{ role: 'system', content: 'You are a helpful assistant.' }];
  const base = JSON.stringify({ request_type: 'chat_completion', provider: 'openai', model: 'gpt-4o-mini', input: messages, params: { max_tokens: 64 }, fallbacks: [] }).length;
  const n = Math.max(1, bytes - base - 40);
  messages.push({ role: 'user', content: 'lorem ipsum dolor sit amet '.repeat(Math.ceil(n / 27)).slice(0, n) });
  return { request_type: 'chat_completion', provider: 'openai', model: 'gpt-4o-mini', input: messages, params: { max_tokens: 64 }, fallbacks: [] };
}
function httpRequestOfSize(bytes) {
  const body = new TextEncoder().encode(JSON.stringify({ model: 'openai/gpt-4o-mini', messages: requestOfSize(bytes).input }).slice(0, bytes));
  return { method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json', 'content-length': String(body.length), 'user-agent': 'bench' }, query: {}, path_params: {}, body };
}
const CHUNK = {
  id: 'chatcmpl-bench0000000000000000000000', object: 'chat.completion.chunk', created: 1731000000, model: 'gpt-4o-mini-2024-07-18',
  system_fingerprint: 'fp_bench00', choices: [{ index: 0, delta: { content: 'quick ' }, logprobs: null, finish_reason: null }],
};
const REQ = { '1 KB': requestOfSize(1024), '64 KB': requestOfSize(65536) };
const HTTP = { '1 KB': httpRequestOfSize(1024), '64 KB': httpRequestOfSize(65536) };
const STREAM_REQ = httpRequestOfSize(300);

// ------------------------------------------------------------------ timing
function stats(ns) {
  const v = Float64Array.from(ns).sort();
  const q = (p) => v[Math.min(v.length - 1, Math.floor(p * v.length))] / 1000;
  return { n: v.length, median_us: q(0.5), p99_us: q(0.99), mean_us: v.reduce((a, b) => a + b, 0) / v.length / 1000 };
}
async function measure(fn, iterations = ITER) {
  const warm = Math.max(200, iterations >> 2);
  for (let i = 0; i < warm; i++) { const r = fn(); if (r instanceof Promise) await r; }
  const ns = new Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    const r = fn();
    if (r instanceof Promise) await r;
    ns[i] = Number(process.hrtime.bigint() - t0);
  }
  return stats(ns);
}

// ------------------------------------------------------------------ runs
const rows = [];
const row = (group, name, s) => {
  rows.push({ group, name, ...s });
  console.log(`${group.padEnd(14)} ${name.padEnd(46)} median ${s.median_us.toFixed(2).padStart(8)} µs   p99 ${s.p99_us.toFixed(2).padStart(8)} µs`);
};

const plugins = {
  native: await loadNativePlugin(entry('native', NATIVE, { config: { id: 'n' } }), loadOpts),
  'wasm inline': await loadWasmPlugin(entry('wasm-inline', WASM), loadOpts),
  'wasm worker': await loadWasmPlugin(entry('wasm-worker', WASM, { isolation: 'worker', instances: 1 }), loadOpts),
};
const echo = {
  'wasm inline': await loadWasmPlugin(entry('wasm-inline-echo', WASM, { config: { echo: true } }), loadOpts),
  'wasm worker': await loadWasmPlugin(entry('wasm-worker-echo', WASM, { isolation: 'worker', instances: 1, config: { echo: true } }), loadOpts),
};
const fuelWorker = {
  'fuel on (1e8 per call)': await loadWasmPlugin(entry('w-fuel', WASM, { isolation: 'worker', instances: 1, limits: { fuel: 100_000_000 } }), loadOpts),
  'fuel off': await loadWasmPlugin(entry('w-nofuel', WASM, { isolation: 'worker', instances: 1, limits: { fuel: 0 } }), loadOpts),
};

console.log(`hook cost, ${ITER} calls per line (64 KB: ${Math.max(200, ITER >> 2)}), Node ${process.version}, ${os.cpus()[0]?.model}`);
for (const [host, p] of Object.entries(plugins)) {
  for (const size of ['1 KB', '64 KB']) {
    const n = size === '64 KB' ? Math.max(200, ITER >> 2) : ITER;
    row('hook call', `${host}: preLLMHook, ${size} request`, await measure(() => p.preLLMHook(new RequestContext('r'), REQ[size]), n));
    row('hook call', `${host}: httpTransportPreHook, ${size} body`, await measure(() => p.httpTransportPreHook(new RequestContext('r'), HTTP[size]), n));
  }
}
const ctx = new RequestContext('stream');
for (const host of ['wasm inline', 'wasm worker']) {
  row('stream chunk', `${host}: chunk hook, answers "no change"`, await measure(() => plugins[host].httpTransportStreamChunkHook(ctx, STREAM_REQ, CHUNK)));
  row('stream chunk', `${host}: chunk hook, returns the chunk`, await measure(() => echo[host].httpTransportStreamChunkHook(ctx, STREAM_REQ, CHUNK)));
}
row('stream chunk', 'native: chunk hook, returns the chunk', await measure(() => plugins.native.httpTransportStreamChunkHook(ctx, STREAM_REQ, CHUNK)));

for (const [label, p] of Object.entries(fuelWorker)) {
  row('fuel (worker)', `${label}: preLLMHook, 1 KB`, await measure(() => p.preLLMHook(new RequestContext('r'), REQ['1 KB'])));
  row('fuel (worker)', `${label}: preLLMHook, 64 KB`, await measure(() => p.preLLMHook(new RequestContext('r'), REQ['64 KB']), Math.max(200, ITER >> 2)));
}

// Raw guest call, no host JSON work: the same input bytes into a metered and an unmetered build.
const bytes = readFileSync(WASM);
const metered = await injectFuel(bytes, 0x7fffffff);
async function raw(buf) {
  let mem;
  const { instance } = await WebAssembly.instantiate(buf, {
    env: { abort: () => { throw new Error('abort'); }, seed: () => Date.now(), 'console.log': () => {} },
    wasi_snapshot_preview1: new Proxy({}, { get: () => () => 0 }),
  });
  const x = instance.exports;
  mem = x.memory;
  x._initialize?.();
  const fuel = x.__gatehouse_fuel instanceof WebAssembly.Global ? x.__gatehouse_fuel : null;
  const cfg = new TextEncoder().encode('{}');
  let p = x.malloc(cfg.length); new Uint8Array(mem.buffer, p, cfg.length).set(cfg); x.init(p, cfg.length); x.free(p, cfg.length);
  return (input) => {
    if (fuel) fuel.value = 100_000_000;
    const ptr = x.malloc(input.length);
    new Uint8Array(mem.buffer, ptr, input.length).set(input);
    x.pre_hook(ptr, input.length);
    x.free(ptr, input.length);
  };
}
const plain = await raw(bytes);
const fueled = await raw(metered);
for (const size of ['1 KB', '64 KB']) {
  const input = new TextEncoder().encode(JSON.stringify({ context: { request_id: 'r' }, request: REQ[size] }));
  const n = size === '64 KB' ? Math.max(200, ITER >> 2) : ITER;
  row('fuel (raw)', `guest pre_hook ${size}, unmetered build`, await measure(() => plain(input), n));
  row('fuel (raw)', `guest pre_hook ${size}, metered build`, await measure(() => fueled(input), n));
}

for (const p of [...Object.values(plugins), ...Object.values(echo), ...Object.values(fuelWorker)]) await p.cleanup?.();

const chunkInline = rows.find((r) => r.name.startsWith('wasm inline: chunk hook, returns'))?.median_us;
const chunkInlineNoop = rows.find((r) => r.name.startsWith('wasm inline: chunk hook, answers'))?.median_us;
const verdict = (v) => (v <= 15 ? 'PASS' : 'MISS');
const summary = [
  `WASM stream chunk hook (inline, returns the chunk): ${chunkInline?.toFixed(2)} µs per chunk (goal ≤ 15 µs) ${verdict(chunkInline)}`,
  `WASM stream chunk hook (inline, "no change"): ${chunkInlineNoop?.toFixed(2)} µs per chunk (goal ≤ 15 µs) ${verdict(chunkInlineNoop)}`,
];
console.log(`\n${summary.join('\n')}`);

const out = join(BENCH, 'results');
mkdirSync(out, { recursive: true });
const date = new Date().toISOString();
writeFileSync(join(out, 'hook-cost.json'), `${JSON.stringify({ date, node: process.version, cpu: os.cpus()[0]?.model, nproc: os.cpus().length, iterations: ITER, rows }, null, 2)}\n`);
writeFileSync(join(out, 'hook-cost.md'), [
  '# Plugin hook cost (bench/micro/hook-cost.mjs)', '',
  `- **Date:** ${date.replace('T', ' ').slice(0, 16)} UTC; ${os.cpus().length} CPU (${os.cpus()[0]?.model}), Node.js ${process.version}`,
  `- **Command:** \`node bench/micro/hook-cost.mjs${argv.length ? ` ${argv.join(' ')}` : ''}\``,
  '- **Method:** each line times single sequential calls (process.hrtime) after a warm-up, through the plugin object the gateway itself gets (native loader, WASM host); worker calls are awaited one at a time, so they include the thread round trip. Plugin: bench/plugins/every-hook.wasm (AssemblyScript + json-as; parses its input, answers "no change" unless `echo`).',
  '', '| group | call | median (µs) | p99 (µs) |', '|---|---|---:|---:|',
  ...rows.map((r) => `| ${r.group} | ${r.name} | ${r.median_us.toFixed(2)} | ${r.p99_us.toFixed(2)} |`),
  '', ...summary.map((s) => `- ${s}`), '',
].join('\n'));
console.log('wrote bench/results/hook-cost.json and bench/results/hook-cost.md');
