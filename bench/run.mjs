#!/usr/bin/env node
// Gatehouse side-by-side benchmark (issue 6). `npm run bench` from the repository root.
//
// Starts one fast mock OpenAI upstream and every target at once, then measures them interleaved:
// each round runs every cell (closed loop at 50 connections, fixed 500 req/s; non-streaming and
// streaming) for every target in turn, the target order rotating between rounds, so a disturbance
// on this shared machine hits all targets alike. Cells are medians over the rounds.
//
// Flags: --quick (smoke run, ~1.5 min)   --only name,name   --duration S (per cell, all rounds)
//        --rounds N   --warmup S   --no-pin   --soak S (RSS over an S-second run, 0 = off)
//        --rate R (fixed rate, default 500)   --connections C (default 50)
//        --no-freeze (leave the targets not being measured running; see FREEZE)
//        --gw-flags "F" (extra node/V8 flags for the Gatehouse targets, after their own: for A/B runs)
//        --rate-warmup S (unrecorded seconds at the fixed rate before each fixed-rate cell, default 2)
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { BENCH, GW_MAIN, ROOT, TMP, argv, flag, freePort, gatewayNodeFlags, opt, sleep } from './harness.mjs';

const RESULTS = join(BENCH, 'results');

// ---------------------------------------------------------------- flags
const QUICK = flag('quick');
const ROUNDS = Number(opt('rounds', QUICK ? 1 : 3));
const DURATION = Number(opt('duration', QUICK ? 2 : 15)); // seconds per cell, summed over rounds
const WARMUP = Number(opt('warmup', QUICK ? 1 : 3));
const SOAK = Number(opt('soak', QUICK ? 0 : 60));
const RATE = Number(opt('rate', 500));
const CONNS = Number(opt('connections', 50));
const RATE_CONNS = 32;
// Seconds at the fixed rate, unrecorded, before each fixed-rate cell. Right after a c=50 burst a
// Node process runs ~25 % more CPU per request for 1-2 s and its p99 at 500 req/s is 3-4 ms
// against ~1 ms from the third second on (1 s slices, gh-none and bare alike); the cell reports the
// steady state at that rate, as wrk2's own guidance on warm-up does.
const RATE_WARMUP = Math.round(Number(opt('rate-warmup', QUICK ? 1 : 2))); // wrk takes whole seconds
const ONLY = opt('only', '') ? opt('only', '').split(',').map((s) => s.trim()).filter(Boolean) : null;
const PER_RUN = Math.max(1, Math.round((DURATION / ROUNDS) * 10) / 10);
const N_CPU = os.cpus().length;

// ---------------------------------------------------------------- environment
function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
if (!have('wrk')) {
  console.log('wrk is missing: installing the Debian package (apt-get install -y wrk)');
  let r = spawnSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'inherit' });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    r = spawnSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'inherit' });
  }
  if (r.status !== 0 || !have('wrk')) {
    console.error('could not install wrk; install it (apt-get install wrk) and run again');
    process.exit(2);
  }
}
const PIN = !flag('no-pin') && have('taskset') && N_CPU >= 2;
const CPU_LOAD = '0'; // wrk and the upstream
const CPU_GW = '1'; // the target under test
const pinned = (cpu, cmd, args) => (PIN ? ['taskset', ['-c', cpu, cmd, ...args]] : [cmd, args]);
// Every target lives for the whole run on the same CPU, and an idle Node process is not quiet: its
// memory reducer and idle-time GCs run seconds after its own load ended, i.e. during the next
// target's cell. Measured with all eight targets alive, that cost gh-none's p99 at 500 req/s 2.2-2.9
// ms against 0.65-1.6 ms with three targets. So the targets not under test are stopped (SIGSTOP)
// during each cell and resumed (SIGCONT) for their own: each cell has the CPU to itself, as a
// deployed gateway has. Their sockets stay open (the mock upstream keeps idle connections 10 min).
const FREEZE = !flag('no-freeze');

// The gateway runs with the V8 flags its `gatehouse` command and `npm start` use.
const NODE_FLAGS = [...await gatewayNodeFlags(), ...opt('gw-flags', '').split(/\s+/).filter(Boolean)];
const PORTKEY_MAIN = join(BENCH, 'node_modules/@portkey-ai/gateway/build/start-server.js');

// ---------------------------------------------------------------- processes
const children = new Set();
function start(name, cpu, cmd, args, env = {}) {
  const [c, a] = pinned(cpu, cmd, args);
  const child = spawn(c, a, { cwd: BENCH, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d) => { log = (log + d.toString()).slice(-4000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('exit', (code, sig) => {
    children.delete(child);
    if (!stopping) console.error(`[${name}] exited early (code ${code}, signal ${sig}); last output:\n${log}`);
  });
  child.logTail = () => log;
  children.add(child);
  return child;
}
/** Resumes `t` (when it is a process of ours) and, with FREEZE, stops every other target. */
function focus(t) {
  for (const c of children) {
    if (c === upstream) continue;
    const mine = c === t?.proc;
    if (!mine && !FREEZE) continue;
    try { c.kill(mine || !t ? 'SIGCONT' : 'SIGSTOP'); } catch { /* gone */ }
  }
}
/** Resumes every target. */
const thawAll = () => { for (const c of children) try { c.kill('SIGCONT'); } catch { /* gone */ } };

let stopping = false;
async function stopAll() {
  stopping = true;
  thawAll();
  const waits = [];
  for (const c of children) {
    waits.push(new Promise((r) => { c.once('exit', r); setTimeout(r, 3000); }));
    try { c.kill('SIGTERM'); } catch { /* gone */ }
  }
  await Promise.all(waits);
  for (const c of children) try { c.kill('SIGKILL'); } catch { /* gone */ }
}
process.on('SIGINT', async () => { await stopAll(); process.exit(130); });


async function post(url, body, headers) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: r.status, text: await r.text() };
}

async function waitReady(t, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const chat = await post(t.url, t.bodies.chat, t.headers);
      if (chat.status === 200) {
        const j = JSON.parse(chat.text);
        if (!j.choices?.[0]?.message) throw new Error(`unexpected chat body: ${chat.text.slice(0, 200)}`);
        const st = await post(t.url, t.bodies.stream, t.headers);
        const events = st.text.split('\n').filter((l) => l.startsWith('data: '));
        if (st.status !== 200 || events.length !== 21 || events[20] !== 'data: [DONE]') {
          throw new Error(`stream check failed: status ${st.status}, ${events.length} data lines: ${st.text.slice(0, 300)}`);
        }
        t.check = { chatBytes: Buffer.byteLength(chat.text), streamBytes: Buffer.byteLength(st.text) };
        return;
      }
      last = `status ${chat.status}: ${chat.text.slice(0, 300)}`;
    } catch (err) {
      if (String(err.message).includes('check failed') || String(err.message).includes('unexpected')) throw new Error(`${t.name}: ${err.message}`);
      last = err.message;
    }
    await sleep(200);
  }
  throw new Error(`${t.name} not ready after ${timeoutMs} ms: ${last}\n${t.proc?.logTail?.() ?? ''}`);
}

// ---------------------------------------------------------------- /proc readings
function procTicks(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime, all threads (clock ticks)
  } catch { return NaN; }
}
function procStatus(pid, key) {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch { return NaN; }
}
function resetHwm(pid) {
  try { writeFileSync(`/proc/${pid}/clear_refs`, '5'); return true; } catch { return false; }
}
function stealTicks() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  return Number(f[8] ?? 0);
}
/** Busy ticks (user+nice+system+irq+softirq) of one CPU, to see load from other processes on it. */
function cpuBusyTicks(cpu) {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${cpu} `));
  if (!line) return NaN;
  const f = line.trim().split(/\s+/).map(Number);
  return f[1] + f[2] + f[3] + f[6] + f[7];
}
const HZ = 100; // USER_HZ on Linux

// ---------------------------------------------------------------- wrk
function wrk(t, mode, { rate = 0, seconds, conns }) {
  const env = {
    ...process.env,
    BODY_FILE: t.bodyFiles[mode],
    HEADERS: Object.entries(t.headers).map(([k, v]) => `${k}: ${v}`).join('|'),
    RATE: String(rate),
  };
  const [c, a] = pinned(CPU_LOAD, 'wrk', ['-t1', `-c${conns}`, `-d${seconds}s`, '--timeout', '5s', '-s', join(BENCH, 'bench.lua'), t.url]);
  return new Promise((res, rej) => {
    const p = spawn(c, a, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('BENCHJSON '));
      if (!line) return rej(new Error(`wrk gave no result for ${t.name}/${mode}:\n${out}`));
      const j = JSON.parse(line.slice(10));
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
      j.non2xx = non2xx ? Number(non2xx[1]) : 0;
      j.rps = j.requests / (j.duration_us / 1e6);
      res(j);
    });
  });
}

async function cell(t, mode, kind) {
  const pid = t.proc?.pid ?? null;
  const statPid = pid ?? upstream.pid; // the direct row's CPU is the upstream's
  if (pid) resetHwm(pid);
  const ticks0 = procTicks(statPid);
  const steal0 = stealTicks();
  const gwCpu = PIN ? CPU_GW : null;
  const ours0 = gwCpu !== null ? ourTicksOnGwCpu() : 0;
  const busy0 = gwCpu !== null ? cpuBusyTicks(gwCpu) : NaN;
  const nb0 = neighbourTicks(t);
  const t0 = process.hrtime.bigint();
  const r = await wrk(t, mode, kind === 'c50' ? { seconds: PER_RUN, conns: CONNS } : { seconds: PER_RUN, conns: RATE_CONNS, rate: RATE });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuS = (procTicks(statPid) - ticks0) / HZ;
  return {
    rps: r.rps,
    p50: r.p50, p90: r.p90, p99: r.p99, max: r.max,
    errors: r.err_connect + r.err_read + r.err_write + r.err_timeout + r.non2xx,
    cpu_us_per_req: r.requests ? (cpuS * 1e6) / r.requests : NaN,
    cpu_pct: (cpuS / secs) * 100,
    rss_peak_mb: pid ? procStatus(pid, 'VmHWM') : NaN,
    steal_pct: ((stealTicks() - steal0) / HZ / secs) * 100,
    // CPU 1 time used by processes other than ours (other sessions, tests): > 10 % = disturbed cell.
    other_pct: gwCpu !== null ? Math.max(0, ((cpuBusyTicks(gwCpu) - busy0) - (ourTicksOnGwCpu() - ours0)) / HZ / secs * 100) : NaN,
    // CPU used meanwhile by the other targets (0 when they are frozen).
    neighbours_pct: ((neighbourTicks(t) - nb0) / HZ / secs) * 100,
  };
}
/** CPU ticks of the target processes (all pinned to the target CPU), leaving out `except`'s. */
function targetTicks(except = null) {
  let n = 0;
  for (const c of children) if (c !== upstream && c !== except) { const x = procTicks(c.pid); if (Number.isFinite(x)) n += x; }
  return n;
}
/** CPU ticks of every target process but `t`'s. */
const neighbourTicks = (t) => targetTicks(t.proc);
/** CPU ticks of every process we pinned to the target CPU. */
const ourTicksOnGwCpu = () => targetTicks();
const DISTURBED = (r) => r.steal_pct > 5 || r.other_pct > 10;

// ---------------------------------------------------------------- targets
const CHAT_MSGS = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'Say hello to the benchmark in one short sentence.' },
];
function bodies(model) {
  return {
    chat: JSON.stringify({ model, max_tokens: 64, messages: CHAT_MSGS }),
    stream: JSON.stringify({ model, max_tokens: 64, stream: true, messages: CHAT_MSGS }),
  };
}
function writeBodies(name, b) {
  const files = {};
  for (const mode of ['chat', 'stream']) {
    files[mode] = join(TMP, `${name}.${mode}.json`);
    writeFileSync(files[mode], b[mode]);
  }
  return files;
}

const NATIVE = join(BENCH, 'plugins/every-hook.mjs');
const WASM = join(BENCH, 'plugins/every-hook.wasm');
const gatehousePlugins = {
  'gh-none': [],
  'gh-native': [{ name: 'native-every-hook', enabled: true, path: NATIVE, config: { id: 'n1' } }],
  'gh-wasm-inline': [{ name: 'wasm-every-hook', enabled: true, path: WASM, isolation: 'inline', config: {} }],
  'gh-wasm-worker': [{ name: 'wasm-every-hook', enabled: true, path: WASM, isolation: 'worker', config: {} }],
  'gh-three': [1, 2, 3].map((i) => ({ name: `native-every-hook-${i}`, path: NATIVE, config: { id: `n${i}` } })),
};
const DESCRIPTIONS = {
  direct: 'the mock upstream hit directly (wrk and the mock share CPU 0)',
  bare: 'bare node:http pass-through proxy with a keep-alive agent (bench/bare-proxy.mjs): the floor',
  'gh-none': 'Gatehouse, no plugins (openai provider pointed at the mock)',
  'gh-native': 'Gatehouse + 1 native plugin implementing every hook (bench/plugins/every-hook.mjs)',
  'gh-wasm-inline': 'Gatehouse + 1 AssemblyScript WASM plugin with every hook, isolation "inline" (bench/plugins/every-hook.wasm)',
  'gh-wasm-worker': 'Gatehouse + the same WASM plugin, isolation "worker" (default instances: one per CPU the event loop leaves free, so 1 worker when pinned to one CPU; a spare only after a worker dies)',
  'gh-three': 'Gatehouse + 3 native every-hook plugins',
  portkey: 'Portkey @portkey-ai/gateway 1.15.2 (hono 4.9.7, @hono/node-server 1.13.5), --headless, NODE_ENV=production',
};
const ALL_TARGETS = ['direct', 'bare', 'gh-none', 'gh-native', 'gh-wasm-inline', 'gh-wasm-worker', 'gh-three', 'portkey'];
const selected = ONLY ? ALL_TARGETS.filter((n) => ONLY.includes(n)) : ALL_TARGETS;
if (ONLY) {
  const unknown = ONLY.filter((n) => !ALL_TARGETS.includes(n));
  if (unknown.length) { console.error(`unknown target(s): ${unknown.join(', ')}; known: ${ALL_TARGETS.join(', ')}`); process.exit(2); }
}

let upstream;
async function startTargets() {
  const upPort = await freePort();
  upstream = start('upstream', CPU_LOAD, process.execPath, [join(BENCH, 'upstream.mjs'), '--port', String(upPort)]);
  const upBase = `http://127.0.0.1:${upPort}`;
  const targets = [];
  for (const name of selected) {
    const port = name === 'direct' ? upPort : await freePort();
    const t = { name, url: `http://127.0.0.1:${port}/v1/chat/completions`, headers: {}, proc: null };
    if (name === 'direct') {
      t.bodies = bodies('gpt-4o-mini');
    } else if (name === 'bare') {
      t.bodies = bodies('gpt-4o-mini');
      t.proc = start(name, CPU_GW, process.execPath, [join(BENCH, 'bare-proxy.mjs'), '--port', String(port), '--upstream', upBase]);
    } else if (name === 'portkey') {
      t.bodies = bodies('gpt-4o-mini');
      t.headers = { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upBase}/v1`, Authorization: 'Bearer sk-mock' };
      t.proc = start(name, CPU_GW, process.execPath, [PORTKEY_MAIN, `--port=${port}`, '--headless'], { NODE_ENV: 'production' });
    } else {
      t.bodies = bodies('openai/gpt-4o-mini');
      const config = {
        server: { host: '127.0.0.1', port },
        providers: { openai: { keys: [{ name: 'bench', value: 'sk-bench', models: ['*'] }], network_config: { base_url: upBase } } },
        plugins: gatehousePlugins[name],
      };
      const file = join(TMP, `${name}.config.json`);
      writeFileSync(file, JSON.stringify(config, null, 2));
      t.configFile = file;
      t.proc = start(name, CPU_GW, process.execPath, [...NODE_FLAGS, GW_MAIN, 'serve', '-c', file, '--port', String(port)],
        { GATEHOUSE_LOG_LEVEL: 'warn', GATEHOUSE_WORKERS: '1', GATEHOUSE_CACHE_DIR: join(TMP, 'cache') });
    }
    t.bodyFiles = writeBodies(name, t.bodies);
    targets.push(t);
  }
  for (const t of targets) await waitReady(t);
  for (const t of targets) if (t.proc) t.idleRss = procStatus(t.proc.pid, 'VmRSS');
  return targets;
}

// ---------------------------------------------------------------- stats and formatting
const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const maxOf = (xs) => { const v = xs.filter(Number.isFinite); return v.length ? Math.max(...v) : NaN; };
const fmtInt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const fmtMs = (us) => (Number.isFinite(us) ? (us / 1000).toFixed(us < 10_000 ? 2 : 1) : '–');
const fmt1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const fmtRatio = (x) => (Number.isFinite(x) ? (x >= 10 ? x.toFixed(1) : x.toFixed(2)) : '–');

function summarize(targets, samples) {
  const rows = {};
  for (const t of targets) {
    const get = (mode, kind) => samples.filter((s) => s.target === t.name && s.mode === mode && s.kind === kind).map((s) => s.r);
    const agg = (mode, kind) => {
      const all = get(mode, kind);
      const clean = all.filter((r) => !DISTURBED(r));
      // Medians over undisturbed rounds when there is at least one; otherwise over all (flagged).
      const rs = clean.length ? clean : all;
      return {
        runs: rs.length,
        discarded_disturbed: all.length - rs.length,
        all_disturbed: clean.length === 0 && all.length > 0,
        rps: median(rs.map((r) => r.rps)),
        rps_runs: rs.map((r) => Math.round(r.rps)),
        p50_us: median(rs.map((r) => r.p50)),
        p99_us: median(rs.map((r) => r.p99)),
        max_us: maxOf(rs.map((r) => r.max)),
        cpu_us_per_req: median(rs.map((r) => r.cpu_us_per_req)),
        cpu_pct: median(rs.map((r) => r.cpu_pct)),
        rss_peak_mb: maxOf(rs.map((r) => r.rss_peak_mb)),
        errors: rs.reduce((n, r) => n + r.errors, 0),
        steal_pct_max: maxOf(rs.map((r) => r.steal_pct)),
        other_pct_max: maxOf(rs.map((r) => r.other_pct)),
        neighbours_pct_max: maxOf(rs.map((r) => r.neighbours_pct)),
      };
    };
    rows[t.name] = {
      description: DESCRIPTIONS[t.name],
      idle_rss_mb: t.idleRss ?? null,
      chat: { c50: agg('chat', 'c50'), fixed: agg('chat', 'fixed') },
      stream: { c50: agg('stream', 'c50'), fixed: agg('stream', 'fixed') },
    };
  }
  for (const mode of ['chat', 'stream']) {
    const base = rows.direct?.[mode].fixed.p50_us;
    const base99 = rows.direct?.[mode].fixed.p99_us;
    for (const name in rows) {
      const f = rows[name][mode].fixed;
      f.added_p50_us = Number.isFinite(base) && name !== 'direct' ? f.p50_us - base : name === 'direct' ? 0 : NaN;
      f.added_p99_us = Number.isFinite(base99) && name !== 'direct' ? f.p99_us - base99 : name === 'direct' ? 0 : NaN;
    }
  }
  return rows;
}

function ratios(rows) {
  const r = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);
  const g = rows['gh-none'];
  const b = rows.bare;
  const p = rows.portkey;
  const w = rows['gh-wasm-inline'];
  const out = [];
  const add = (id, label, value, target, ok, unit = '×') => out.push({
    id, label, value, target, unit,
    verdict: Number.isFinite(value) ? (ok(value) ? 'PASS' : 'MISS') : 'n/a',
  });
  for (const mode of ['chat', 'stream']) {
    const m = mode === 'chat' ? 'non-streaming' : 'streaming';
    add(`none_vs_bare_rps_${mode}`, `no plugins / bare proxy, req/s @c=${CONNS}, ${m}`, r(g?.[mode].c50.rps, b?.[mode].c50.rps), '≥ 0.70', (v) => v >= 0.7);
    add(`none_vs_portkey_rps_${mode}`, `no plugins / Portkey, req/s @c=${CONNS}, ${m}`, r(g?.[mode].c50.rps, p?.[mode].c50.rps), '≥ 8', (v) => v >= 8);
  }
  for (const mode of ['chat', 'stream']) {
    const m = mode === 'chat' ? 'non-streaming' : 'streaming';
    add(`none_vs_bare_added_p50_${mode}`, `no plugins / bare proxy, added p50 @${RATE} req/s, ${m}`, r(g?.[mode].fixed.added_p50_us, b?.[mode].fixed.added_p50_us), '≤ 1.3', (v) => v <= 1.3);
  }
  for (const mode of ['chat', 'stream']) {
    const m = mode === 'chat' ? 'non-streaming' : 'streaming';
    add(`none_p99_fixed_${mode}`, `no plugins, p99 @${RATE} req/s, ${m} (ms)`, (g?.[mode].fixed.p99_us ?? NaN) / 1000, '≤ 2 ms', (v) => v <= 2, 'ms');
  }
  for (const mode of ['chat', 'stream']) {
    const m = mode === 'chat' ? 'non-streaming' : 'streaming';
    add(`wasm_inline_vs_bare_rps_${mode}`, `WASM inline / bare proxy, req/s @c=${CONNS}, ${m}`, r(w?.[mode].c50.rps, b?.[mode].c50.rps), '≥ 0.55', (v) => v >= 0.55);
  }
  const rssNone = maxOf([g?.chat.c50.rss_peak_mb, g?.stream.c50.rss_peak_mb, g?.chat.fixed.rss_peak_mb, g?.stream.fixed.rss_peak_mb].map((x) => x ?? NaN));
  add('none_peak_rss', `no plugins, peak RSS under load (MiB)`, rssNone, '≤ 150 MiB', (v) => v <= 150, 'MiB');
  const ghNames = Object.keys(rows).filter((n) => n.startsWith('gh-'));
  const rssAll = maxOf(ghNames.flatMap((n) => ['chat', 'stream'].flatMap((m) => [rows[n][m].c50.rss_peak_mb, rows[n][m].fixed.rss_peak_mb])));
  add('gatehouse_peak_rss_any', `any Gatehouse variant, peak RSS under load (MiB)`, rssAll, '≤ 150 MiB', (v) => v <= 150, 'MiB');
  return out;
}

function table(rows) {
  const head = ['target', `req/s @c${CONNS}`, `req/s @c${CONNS} stream`, `p50 / p99 @${RATE}/s (ms)`, `p50 / p99 @${RATE}/s stream (ms)`,
    `added p50 @${RATE}/s (µs)`, `added p50 @${RATE}/s stream (µs)`, 'CPU µs/req @c50 (chat / stream)', 'peak RSS (MiB)', 'errors'];
  const body = Object.entries(rows).map(([name, r]) => [
    name,
    fmtInt(r.chat.c50.rps),
    fmtInt(r.stream.c50.rps),
    `${fmtMs(r.chat.fixed.p50_us)} / ${fmtMs(r.chat.fixed.p99_us)}`,
    `${fmtMs(r.stream.fixed.p50_us)} / ${fmtMs(r.stream.fixed.p99_us)}`,
    name === 'direct' ? '0' : fmtInt(r.chat.fixed.added_p50_us),
    name === 'direct' ? '0' : fmtInt(r.stream.fixed.added_p50_us),
    `${fmtInt(r.chat.c50.cpu_us_per_req)} / ${fmtInt(r.stream.c50.cpu_us_per_req)}`,
    name === 'direct' ? '–' : fmt1(maxOf([r.chat.c50.rss_peak_mb, r.stream.c50.rss_peak_mb, r.chat.fixed.rss_peak_mb, r.stream.fixed.rss_peak_mb])),
    String(['chat', 'stream'].reduce((n, m) => n + r[m].c50.errors + r[m].fixed.errors, 0)),
  ]);
  return { head, body };
}

function textTable({ head, body }) {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)].join('\n');
}
function mdTable({ head, body }) {
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
function ratioLines(rs, md) {
  const v = (x) => (x.unit === '×' ? `${fmtRatio(x.value)}×` : `${fmtRatio(x.value)} ${x.unit}`);
  if (md) {
    return ['| target | measured | goal | verdict |', '|---|---:|---:|---|', ...rs.map((x) => `| ${x.label} | ${v(x)} | ${x.target} | **${x.verdict}** |`)].join('\n');
  }
  const w = Math.max(...rs.map((x) => x.label.length));
  return rs.map((x) => `${x.label.padEnd(w)}  ${v(x).padStart(9)}  (goal ${x.target})  ${x.verdict}`).join('\n');
}

function machine() {
  const cpus = os.cpus();
  let wrkVersion = '';
  try { wrkVersion = (spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout || '').split('\n')[0].split(' [')[0].trim(); } catch { /* */ }
  let commit = '';
  try { commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(); } catch { /* */ }
  let dirty = false;
  try { dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'packages'], { encoding: 'utf8' }).trim() !== ''; } catch { /* */ }
  return {
    nproc: N_CPU, cpu_model: cpus[0]?.model ?? 'unknown', mem_gib: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`, node: process.version, wrk: wrkVersion, commit, gateway_src_dirty: dirty,
  };
}

// ---------------------------------------------------------------- soak
async function soak(targets) {
  const t = targets.find((x) => x.name === 'gh-none');
  if (!t || SOAK <= 0) return null;
  console.log(`\nsoak: gh-none at c=${CONNS} for ${SOAK} s (non-streaming, then streaming halves), sampling VmRSS every second`);
  focus(t);
  await sleep(300);
  resetHwm(t.proc.pid);
  const samples = [];
  const timer = setInterval(() => samples.push(Math.round(procStatus(t.proc.pid, 'VmRSS') * 10) / 10), 1000);
  const half = Math.max(1, Math.round(SOAK / 2));
  const a = await wrk(t, 'chat', { seconds: half, conns: CONNS });
  const b = await wrk(t, 'stream', { seconds: SOAK - half || 1, conns: CONNS });
  clearInterval(timer);
  const k = Math.max(1, Math.min(10, Math.floor(samples.length / 4)));
  const first = median(samples.slice(0, k));
  const last = median(samples.slice(-k));
  return {
    seconds: SOAK, rps_chat: a.rps, rps_stream: b.rps, errors: a.err_timeout + a.non2xx + b.err_timeout + b.non2xx,
    rss_samples_mb: samples, rss_first_median_mb: first, rss_last_median_mb: last, rss_peak_mb: procStatus(t.proc.pid, 'VmHWM'),
  };
}

// ---------------------------------------------------------------- main
async function main() {
  const began = new Date();
  const cells = [['chat', 'c50'], ['stream', 'c50'], ['chat', 'fixed'], ['stream', 'fixed']];
  const estimate = selected.length * (2 * WARMUP + cells.length * ROUNDS * (PER_RUN + 0.3) + 2 * ROUNDS * RATE_WARMUP) + SOAK + 10;
  console.log(`Gatehouse benchmark: ${selected.join(', ')}`);
  console.log(`${ROUNDS} round(s) x ${PER_RUN} s per cell, warm-up ${WARMUP} s per target and mode, fixed rate ${RATE} req/s, ${PIN ? 'pinned (wrk + upstream on CPU 0, target on CPU 1)' : 'not pinned'}; about ${Math.ceil(estimate / 60)} min`);
  const targets = await startTargets();
  for (const t of targets) console.log(`  ${t.name.padEnd(15)} ${t.url}${t.proc ? ` pid ${t.proc.pid}` : ''} (chat ${t.check.chatBytes} B, stream ${t.check.streamBytes} B)`);

  if (WARMUP > 0) {
    process.stdout.write('warm-up');
    for (const t of targets) {
      focus(t);
      for (const mode of ['chat', 'stream']) { await wrk(t, mode, { seconds: WARMUP, conns: CONNS }); process.stdout.write('.'); }
    }
    process.stdout.write('\n');
  }

  const samples = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]);
    for (const [mode, kind] of cells) {
      for (const t of order) {
        focus(t);
        await sleep(300);
        if (kind === 'fixed' && RATE_WARMUP > 0) await wrk(t, mode, { seconds: RATE_WARMUP, conns: RATE_CONNS, rate: RATE });
        const r = await cell(t, mode, kind);
        samples.push({ round, target: t.name, mode, kind, r });
        const label = `${kind === 'c50' ? `c=${CONNS}` : `${RATE}/s`} ${mode}`;
        console.log(`  round ${round + 1}/${ROUNDS}  ${label.padEnd(12)} ${t.name.padEnd(15)} ${fmtInt(r.rps).padStart(7)} req/s  p50 ${fmtMs(r.p50).padStart(6)} ms  p99 ${fmtMs(r.p99).padStart(6)} ms  cpu ${fmt1(r.cpu_pct).padStart(5)}%  rss ${fmt1(r.rss_peak_mb).padStart(6)} MiB${r.errors ? `  ERRORS ${r.errors}` : ''}${r.steal_pct > 5 ? `  steal ${fmt1(r.steal_pct)}%` : ''}${r.other_pct > 10 ? `  other load on CPU ${CPU_GW} ${fmt1(r.other_pct)}%` : ''}${r.neighbours_pct > 2 ? `  other targets ${fmt1(r.neighbours_pct)}%` : ''}`);
      }
    }
  }
  const soakResult = await soak(targets);
  await stopAll();

  const rows = summarize(targets, samples);
  const rs = ratios(rows);
  const tbl = table(rows);
  const m = machine();
  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const method = `wrk ${m.wrk.replace(/^wrk /, '')} (-t1, Lua script bench/bench.lua: POST a ${Buffer.byteLength(bodies('openai/gpt-4o-mini').chat)}-byte chat request); `
    + `mock upstream answers a ${rows.direct?.chat ? '' : ''}fixed chat.completion (${targets[0].check.chatBytes} B) or 20 SSE chunks + [DONE] (${targets[0].check.streamBytes} B). `
    + `Closed loop at ${CONNS} connections; fixed rate ${RATE} req/s with ${RATE_CONNS} connections (global 1/RATE schedule in Lua). `
    + `${ROUNDS} interleaved round(s) of ${PER_RUN} s per cell after ${WARMUP} s warm-up; medians over rounds. `
    + `${PIN ? 'Pinned: wrk + upstream on CPU 0, target on CPU 1 (taskset).' : 'Not pinned.'} `
    + `${RATE_WARMUP > 0 ? `Each fixed-rate cell follows ${RATE_WARMUP} s at that rate, not recorded. ` : ''}`
    + `${FREEZE ? 'The targets not under test are stopped (SIGSTOP) during each cell. ' : 'The targets not under test keep running during each cell (--no-freeze). '}`
    + `Added latency = target p50 − direct p50 at the same fixed rate. Peak RSS = VmHWM of the target process (reset before each cell), max over cells. `
    + `CPU µs/req = target process CPU time (all threads) / requests at c=${CONNS}.`;
  const steal = maxOf(samples.map((s) => s.r.steal_pct));
  const disturbed = samples.filter((s) => DISTURBED(s.r)).length;
  const allDisturbed = Object.entries(rows).flatMap(([n, r]) => ['chat', 'stream'].flatMap((m) => ['c50', 'fixed'].filter((k) => r[m][k].all_disturbed).map((k) => `${n} ${m} ${k}`)));
  const noise = `max hypervisor steal during a cell ${fmt1(steal)}% of a core; ${disturbed} of ${samples.length} cells disturbed (steal > 5 % or other processes > 10 % of CPU ${CPU_GW}) and left out of the medians`
    + (allDisturbed.length ? `; every round disturbed for: ${allDisturbed.join(', ')} (medians over disturbed rounds)` : '');

  console.log(`\n${textTable(tbl)}\n`);
  console.log(ratioLines(rs, false));
  if (soakResult) console.log(`\nsoak ${soakResult.seconds} s (gh-none): RSS ${fmt1(soakResult.rss_first_median_mb)} MiB at the start, ${fmt1(soakResult.rss_last_median_mb)} MiB at the end, peak ${fmt1(soakResult.rss_peak_mb)} MiB`);
  console.log(`\n${noise}`);

  const json = {
    date: began.toISOString(), machine: m, command, method,
    settings: { quick: QUICK, rounds: ROUNDS, seconds_per_cell_run: PER_RUN, warmup_s: WARMUP, rate: RATE, connections: CONNS, rate_connections: RATE_CONNS, rate_warmup_s: RATE_WARMUP, pinned: PIN, freeze: FREEZE },
    targets: rows, ratios: rs, soak: soakResult, max_steal_pct: steal, disturbed_cells: disturbed, samples,
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
  const md = [
    `# Gatehouse benchmark: latest run`,
    '',
    `- **Date:** ${began.toISOString().replace('T', ' ').slice(0, 16)} UTC${QUICK ? ' (quick smoke run: short cells, numbers are indicative only)' : ''}`,
    `- **Machine:** ${m.nproc} CPU (${m.cpu_model}), ${m.mem_gib} GiB, ${m.kernel}, Node.js ${m.node}, ${m.wrk}`,
    `- **Gateway:** commit ${m.commit}${m.gateway_src_dirty ? ' (with uncommitted changes under packages/)' : ''}`,
    `- **Command:** \`${command}\``,
    `- **Method:** ${method}`,
    `- **Noise:** ${noise}.`,
    '',
    mdTable(tbl),
    '',
    'Targets (issue 6), as ratios from this run:',
    '',
    ratioLines(rs, true),
    '',
    soakResult ? `Soak (${soakResult.seconds} s at c=${CONNS}, gh-none, half non-streaming then half streaming): RSS ${fmt1(soakResult.rss_first_median_mb)} MiB at the start, ${fmt1(soakResult.rss_last_median_mb)} MiB at the end, peak ${fmt1(soakResult.rss_peak_mb)} MiB.\n` : '',
    'Rows: ' + Object.keys(rows).map((n) => `\`${n}\`: ${DESCRIPTIONS[n]}`).join('; ') + '.',
    '',
  ].join('\n');
  writeFileSync(join(RESULTS, 'latest.md'), md);
  console.log(`\nwrote ${join('bench/results', 'latest.json')} and ${join('bench/results', 'latest.md')} (${Math.round((Date.now() - began) / 1000)} s)`);
}

main().catch(async (err) => {
  console.error(err?.stack ?? err);
  await stopAll();
  process.exit(1);
});
