#!/usr/bin/env node
// Soak: a bounded, loopback-only load run of the built gateway, to show that it keeps answering
// and that its memory and handles plateau.
//
//   npm run soak -- [--minutes 10] [--clients 16] [--stream 0.3] [--fail 0.01] [--out bench/results/soak-latest.md]
//
// What runs: bench/upstream.mjs (a fast mock OpenAI upstream, in this process) and
// `gatehouse serve --workers 1` as a child process (so its RSS and open descriptors can be read
// from /proc/<pid>), with four plugins: the native hello-world example, the AssemblyScript and the
// Rust WASM fixtures, and a hostile native plugin (fail_open) that throws in `preLLMHook` and in
// the chunk hook with probability --fail. N clients send, back to back over keep-alive, a mix of
// streaming (--stream share) and non-streaming chat completions and check every answer.
// Reported: requests, errors by kind, latency p50/p90/p99/max, plugin failures seen in the
// gateway's log, RSS and open descriptors at the start, middle and end, descriptors after the
// clients have gone, and the exit of SIGTERM at the end. Markdown to stdout and to --out.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startUpstream } from '../bench/upstream.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : def;
};
const MINUTES = Number(opt('minutes', '10'));
const CLIENTS = Number(opt('clients', '16'));
const STREAM_SHARE = Number(opt('stream', '0.3'));
const FAIL_P = Number(opt('fail', '0.01'));
const OUT = opt('out', join(ROOT, 'bench/results/soak-latest.md'));
const SAMPLE_MS = Number(opt('sample-ms', '5000'));
const REQUEST_TIMEOUT_MS = 30_000;
if (!(MINUTES > 0) || !(CLIENTS >= 1) || !(STREAM_SHARE >= 0 && STREAM_SHARE <= 1)) {
  console.error('usage: soak.mjs [--minutes N>0] [--clients N>=1] [--stream 0..1] [--fail 0..1] [--out file]');
  process.exit(2);
}
const MAIN = join(ROOT, 'packages/gateway/dist/cli/main.js');
if (!existsSync(MAIN)) {
  console.error(`soak: ${MAIN} is missing; run "npm run build" first`);
  process.exit(2);
}
const RUST = join(ROOT, 'test/fixtures/wasm/rust-hello/rust-hello.wasm');
const AS = join(ROOT, 'test/fixtures/wasm/as-hello/as-hello.wasm');
for (const f of [RUST, AS]) if (!existsSync(f)) { console.error(`soak: missing ${f}`); process.exit(2); }

// ---- setup --------------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'gh-soak-'));
const HOSTILE = join(dir, 'hostile.mjs');
writeFileSync(HOSTILE, `
export default function hostile(cfg) {
  const p = Number(cfg.p ?? 0.01);
  return {
    name: 'hostile',
    preLLMHook() { if (Math.random() < p) throw new Error('hostile: random failure in preLLMHook'); },
    httpTransportStreamChunkHook(ctx, req, chunk) { if (Math.random() < p) throw new Error('hostile: random failure in a chunk'); return chunk; },
  };
}
`);

const upstream = await startUpstream(0, '127.0.0.1');
const upBase = `http://127.0.0.1:${upstream.address().port}/v1`;
const config = {
  providers: { openai: { keys: [{ name: 'soak', value: 'sk-soak-not-a-secret', models: ['*'] }], network_config: { base_url: upBase } } },
  plugins: [
    { name: 'hello-world-native', path: join(ROOT, 'examples/plugins/hello-world-native/index.ts'), config: { log: false } },
    { name: 'as-hello', path: AS },
    { name: 'rust-hello', path: RUST },
    { name: 'hostile', path: HOSTILE, on_error: 'fail_open', config: { p: FAIL_P } },
  ],
};
const cfgFile = join(dir, 'config.json');
writeFileSync(cfgFile, JSON.stringify(config, null, 2));

const { NODE_FLAGS } = await import(join(ROOT, 'packages/gateway/dist/cli/node-flags.js'));
const gw = spawn(process.execPath, [...NODE_FLAGS, MAIN, 'serve', '-c', cfgFile, '--port', '0', '--host', '127.0.0.1', '--workers', '1'], {
  cwd: ROOT,
  env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'warn', GATEHOUSE_CACHE_DIR: join(dir, 'cache') },
  stdio: ['ignore', 'pipe', 'pipe'],
});
const pluginFailures = new Map();
const otherLogs = new Map();
let stdoutBuf = '';
let gwOutput = '';
const url = await new Promise((resolve, reject) => {
  const onLine = (line) => {
    if (!line.startsWith('{')) return;
    let o;
    try { o = JSON.parse(line); } catch { return; }
    if (o.msg === 'plugin failure') {
      const k = `${o.plugin} ${o.hook}`;
      pluginFailures.set(k, (pluginFailures.get(k) ?? 0) + 1);
    } else if (o.level >= 40) {
      const k = String(o.msg).slice(0, 80);
      otherLogs.set(k, (otherLogs.get(k) ?? 0) + 1);
    }
  };
  gw.stdout.on('data', (d) => {
    stdoutBuf += d;
    let i;
    while ((i = stdoutBuf.indexOf('\n')) >= 0) {
      const line = stdoutBuf.slice(0, i);
      stdoutBuf = stdoutBuf.slice(i + 1);
      if (gwOutput.length < 20_000) gwOutput += `${line}\n`;
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m) resolve(m[1]);
      onLine(line);
    }
  });
  gw.stderr.on('data', (d) => { if (gwOutput.length < 20_000) gwOutput += d; });
  gw.once('exit', (code) => reject(new Error(`gateway exited with ${code} before listening:\n${gwOutput}`)));
  setTimeout(() => reject(new Error(`gateway did not start in 60 s:\n${gwOutput}`)), 60_000).unref();
});
const pid = gw.pid;

function procStatus() {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
  let fds = NaN;
  try { fds = readdirSync(`/proc/${pid}/fd`).length; } catch { /* gone */ }
  return { rssMb: kb('VmRSS') / 1024, threads: kb('Threads'), fds };
}

// ---- load ---------------------------------------------------------------------------------------

let agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
const target = new URL(`${url}/v1/chat/completions`);
const bodyFor = (stream, i) => JSON.stringify({
  model: 'openai/gpt-4o-mini',
  messages: [{ role: 'system', content: 'You are a soak test.' }, { role: 'user', content: `request ${i}: say something short` }],
  stream,
  max_tokens: 32,
});

const errors = new Map();
const countError = (k) => errors.set(k, (errors.get(k) ?? 0) + 1);
let ok = 0;
let okStream = 0;
let sent = 0;
let latencies = [];
let windowLat = [];
let windowOk = 0;

function request(stream, i) {
  return new Promise((resolve) => {
    const body = bodyFor(stream, i);
    const t0 = performance.now();
    const req = http.request(target, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('error', () => { countError('response aborted'); resolve(); });
      res.on('end', () => {
        const ms = performance.now() - t0;
        const text = Buffer.concat(parts).toString('utf8');
        if (res.statusCode !== 200) {
          let code = '';
          try { code = JSON.parse(text).error?.code ?? ''; } catch { /* not JSON */ }
          countError(`HTTP ${res.statusCode} ${code}`.trim());
        } else if (stream) {
          if (/^data: \{"error"/m.test(text)) countError('stream: error event');
          else if (!text.endsWith('data: [DONE]\n\n')) countError('stream: no [DONE]');
          else { ok++; okStream++; windowOk++; latencies.push(ms); windowLat.push(ms); }
        } else {
          let good = false;
          try { good = JSON.parse(text).object === 'chat.completion'; } catch { /* counted below */ }
          if (good) { ok++; windowOk++; latencies.push(ms); windowLat.push(ms); } else countError('body: not a chat.completion');
        }
        resolve();
      });
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => { countError('client timeout'); req.destroy(); });
    req.on('error', (e) => { countError(`network: ${e.code ?? e.message}`); resolve(); });
    req.end(body);
  });
}

const pct = (arr, p) => {
  if (arr.length === 0) return NaN;
  const s = Float64Array.from(arr).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const durationMs = MINUTES * 60_000;
// Warm-up (5 s of the same load, not counted), then the idle baseline with the gateway's upstream
// pool warm: descriptors after the run are compared with these.
{
  const until = Date.now() + 5000;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (Date.now() < until) await request(Math.random() < STREAM_SHARE, sent++);
  }));
  sent = 0; ok = 0; okStream = 0; latencies = []; windowLat = []; windowOk = 0; errors.clear();
  agent.destroy();
  await new Promise((r) => setTimeout(r, 2000));
  agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
}
const fdsIdle = procStatus().fds;
const started = Date.now();
const deadline = started + durationMs;
const samples = [];
const sampler = setInterval(() => {
  const st = procStatus();
  const elapsed = (Date.now() - started) / 1000;
  samples.push({ t: elapsed, ...st, rps: windowOk / (SAMPLE_MS / 1000), p50: pct(windowLat, 50), p99: pct(windowLat, 99) });
  windowLat = [];
  windowOk = 0;
  if (samples.length % Math.max(1, Math.round(60_000 / SAMPLE_MS)) === 0) {
    const s = samples.at(-1);
    console.error(`[soak] ${Math.round(elapsed)} s: ${sent} sent, ${ok} ok, ${[...errors.values()].reduce((a, b) => a + b, 0)} errors, ${s.rps.toFixed(0)} req/s, p99 ${s.p99.toFixed(1)} ms, RSS ${s.rssMb.toFixed(1)} MiB, fds ${s.fds}`);
  }
}, SAMPLE_MS);

console.error(`[soak] gateway pid ${pid} at ${url}; ${CLIENTS} clients, ${Math.round(STREAM_SHARE * 100)}% streaming, hostile p=${FAIL_P}, ${MINUTES} min`);
async function client() {
  while (Date.now() < deadline) {
    const i = sent++;
    await request(Math.random() < STREAM_SHARE, i);
  }
}
await Promise.all(Array.from({ length: CLIENTS }, client));
clearInterval(sampler);
const wallS = (Date.now() - started) / 1000;
const fdsLoaded = procStatus().fds;
agent.destroy();
await new Promise((r) => setTimeout(r, 2000));
const fdsAfter = procStatus().fds;

// ---- shutdown -----------------------------------------------------------------------------------

const tStop = performance.now();
const exit = await new Promise((resolve) => {
  const t = setTimeout(() => { gw.kill('SIGKILL'); resolve({ code: null, signal: 'SIGKILL (no exit within 30 s)' }); }, 30_000);
  gw.once('exit', (code, signal) => { clearTimeout(t); resolve({ code, signal }); });
  gw.kill('SIGTERM');
});
const stopMs = performance.now() - tStop;
upstream.close();

// ---- report -------------------------------------------------------------------------------------

const at = (frac) => samples[Math.min(samples.length - 1, Math.max(0, Math.round(frac * (samples.length - 1))))];
const warm = samples.find((s) => s.t >= Math.min(30, wallS / 10)) ?? samples[0];
const mid = at(0.5);
const end = samples.at(-1);
const peakRss = Math.max(...samples.map((s) => s.rssMb));
// Plateau: over the second half, RSS grows by less than 10% (or 16 MiB, for small heaps).
const growth = end.rssMb - mid.rssMb;
const plateau = growth < Math.max(16, mid.rssMb * 0.1);
const errorTotal = [...errors.values()].reduce((a, b) => a + b, 0);
const failTotal = [...pluginFailures.values()].reduce((a, b) => a + b, 0);
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

const lines = [];
lines.push(`# Soak run: ${new Date(started).toISOString()}`, '');
lines.push(`${MINUTES} min (after a 5 s warm-up), ${CLIENTS} concurrent clients over keep-alive, ${Math.round(STREAM_SHARE * 100)}% streaming chat completions, loopback only. `
  + `Gateway: \`gatehouse serve --workers 1\` (Node ${process.version}, pid ${pid}); upstream: bench/upstream.mjs (fixed chat.completion, or 20 SSE chunks + [DONE]). `
  + `Plugins: hello-world-native (native, every hook), as-hello (AssemblyScript WASM), rust-hello (Rust WASM), hostile (native, fail_open, throws in preLLMHook and in the chunk hook with p=${FAIL_P}).`, '');
lines.push('| figure | value |', '|---|---|');
lines.push(`| requests sent | ${sent} |`);
lines.push(`| answered correctly | ${ok} (${okStream} streams) |`);
lines.push(`| errors seen by clients | ${errorTotal}${errorTotal ? ` (${[...errors].map(([k, n]) => `${k}: ${n}`).join(', ')})` : ''} |`);
lines.push(`| throughput | ${(ok / wallS).toFixed(0)} req/s |`);
lines.push(`| latency p50 / p90 / p99 / max | ${f2(pct(latencies, 50))} / ${f2(pct(latencies, 90))} / ${f2(pct(latencies, 99))} / ${f1(latencies.reduce((a, b) => (b > a ? b : a), 0))} ms |`);
lines.push(`| hostile plugin failures (logged, fail_open) | ${failTotal} (${[...pluginFailures].map(([k, n]) => `${k}: ${n}`).join(', ') || 'none'}) |`);
lines.push(`| other warnings/errors in the gateway log | ${otherLogs.size ? [...otherLogs].map(([k, n]) => `${k}: ${n}`).join(', ') : 'none'} |`);
lines.push(`| RSS start (${Math.round(warm.t)} s) / middle (${Math.round(mid.t)} s) / end (${Math.round(end.t)} s) / peak | ${f1(warm.rssMb)} / ${f1(mid.rssMb)} / ${f1(end.rssMb)} / ${f1(peakRss)} MiB |`);
lines.push(`| RSS plateau (second half grows < max(16 MiB, 10%)) | ${plateau ? 'yes' : 'NO'} (${growth >= 0 ? '+' : ''}${f1(growth)} MiB) |`);
lines.push(`| open descriptors: idle after warm-up / start / middle / end of load / 2 s after clients left | ${fdsIdle} / ${warm.fds} / ${mid.fds} / ${fdsLoaded} / ${fdsAfter} |`);
lines.push(`| threads (start / end) | ${warm.threads} / ${end.threads} |`);
lines.push(`| SIGTERM at the end | exit ${exit.code ?? exit.signal} after ${stopMs.toFixed(0)} ms |`);
lines.push('');
lines.push('Per minute (requests answered per second, latency of that window, RSS and descriptors at its end):', '');
lines.push('| t (s) | req/s | p50 (ms) | p99 (ms) | RSS (MiB) | fds |', '|---|---|---|---|---|---|');
const step = Math.max(1, Math.round(60_000 / SAMPLE_MS));
for (let i = step - 1; i < samples.length; i += step) {
  const win = samples.slice(i - step + 1, i + 1);
  const s = samples[i];
  lines.push(`| ${Math.round(s.t)} | ${(win.reduce((a, b) => a + b.rps, 0) / win.length).toFixed(0)} | ${f2(s.p50)} | ${f2(s.p99)} | ${f1(s.rssMb)} | ${s.fds} |`);
}
lines.push('');
const md = lines.join('\n');
console.log(md);
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, md);
console.error(`[soak] written to ${OUT}`);
const healthy = errorTotal === 0 && plateau && exit.code === 0 && fdsAfter <= fdsIdle + 2;
process.exit(healthy ? 0 : 1);
