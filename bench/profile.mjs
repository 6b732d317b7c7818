#!/usr/bin/env node
// CPU profile of the gateway under load: starts the mock upstream and one Gatehouse variant with
// `node --cpu-prof`, drives it with wrk at 50 connections (non-streaming, then streaming), stops it
// with SIGTERM (the profile is written on exit) and prints the top functions by self time.
// Usage: node bench/profile.mjs [--target gh-none|gh-native|gh-wasm-inline|gh-wasm-worker] [--seconds S] [--top N] [--mode chat,stream]
//        [--rate R]: a fixed rate (32 connections) instead of the closed loop; shares are then of the busy time
// Pinned like run.mjs (wrk + upstream on CPU 0, gateway on CPU 1) when taskset exists.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { BENCH, GW_MAIN, ROOT, TMP, freePort, gatewayNodeFlags, opt, sleep } from './harness.mjs';

const TARGET = opt('target', 'gh-none');
const SECONDS = Number(opt('seconds', 10));
const MODES = opt('mode', 'chat,stream').split(',');
const TOP = Number(opt('top', 25));
const RATE = Number(opt('rate', 0));
const PIN = spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0 && os.cpus().length >= 2;
const pinned = (cpu, cmd, args) => (PIN ? ['taskset', ['-c', cpu, cmd, ...args]] : [cmd, args]);
const plugins = {
  'gh-none': [],
  'gh-native': [{ name: 'native', enabled: true, path: join(BENCH, 'plugins/every-hook.mjs') }],
  'gh-wasm-inline': [{ name: 'wasm', enabled: true, path: join(BENCH, 'plugins/every-hook.wasm'), isolation: 'inline' }],
  'gh-wasm-worker': [{ name: 'wasm', enabled: true, path: join(BENCH, 'plugins/every-hook.wasm'), isolation: 'worker' }],
}[TARGET];
if (!plugins) { console.error(`unknown --target ${TARGET}`); process.exit(2); }

const profDir = join(TMP, `prof-${TARGET}`);
rmSync(profDir, { recursive: true, force: true });
mkdirSync(profDir, { recursive: true });

const upPort = await freePort();
const gwPort = await freePort();
const [uc, ua] = pinned('0', process.execPath, [join(BENCH, 'upstream.mjs'), '--port', String(upPort)]);
const up = spawn(uc, ua, { stdio: 'ignore' });
const cfgFile = join(TMP, `profile-${TARGET}.json`);
writeFileSync(cfgFile, JSON.stringify({
  server: { host: '127.0.0.1', port: gwPort },
  providers: { openai: { keys: [{ name: 'bench', value: 'sk-bench', models: ['*'] }], network_config: { base_url: `http://127.0.0.1:${upPort}` } } },
  plugins,
}));
const NODE_FLAGS = await gatewayNodeFlags();
const [gc, ga] = pinned('1', process.execPath, [...NODE_FLAGS, '--cpu-prof', `--cpu-prof-dir=${profDir}`, GW_MAIN, 'serve', '-c', cfgFile, '--port', String(gwPort)]);
const gw = spawn(gc, ga, { stdio: 'ignore', env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'warn', GATEHOUSE_WORKERS: '1' } });
const url = `http://127.0.0.1:${gwPort}/v1/chat/completions`;
for (let i = 0; i < 100; i++) {
  try { if ((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"openai/x","messages":[{"role":"user","content":"hi"}]}' })).ok) break; } catch { /* not yet */ }
  await sleep(100);
}
const msgs = [{ role: 'system', content: 'You are a helpful assistant.' }, { role: 'user', content: 'Say hello to the benchmark in one short sentence.' }];
const modes = [['chat', { model: 'openai/gpt-4o-mini', max_tokens: 64, messages: msgs }], ['stream', { model: 'openai/gpt-4o-mini', max_tokens: 64, stream: true, messages: msgs }]];
for (const [mode, body] of modes.filter(([m]) => MODES.includes(m))) {
  const f = join(TMP, `profile-${mode}.json`);
  writeFileSync(f, JSON.stringify(body));
  const [wc, wa] = pinned('0', 'wrk', ['-t1', RATE ? '-c32' : '-c50', `-d${SECONDS}s`, '-s', join(BENCH, 'bench.lua'), url]);
  const r = spawnSync(wc, wa, { env: { ...process.env, BODY_FILE: f, RATE: String(RATE) }, encoding: 'utf8' });
  const j = JSON.parse((r.stdout.split('\n').find((l) => l.startsWith('BENCHJSON ')) ?? 'BENCHJSON {}').slice(10));
  console.log(`${TARGET} ${mode}: ${Math.round(j.requests / (j.duration_us / 1e6))} req/s at ${RATE ? `a fixed ${RATE}/s` : 'c=50'}, p50 ${j.p50} µs, ${j.err_status ?? '?'} non-2xx`);
}
gw.kill('SIGTERM');
await new Promise((r) => { gw.once('exit', r); setTimeout(r, 10_000); });
up.kill('SIGTERM');

const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
if (!file) { console.error('no .cpuprofile written'); process.exit(1); }
const prof = JSON.parse(readFileSync(join(profDir, file), 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = prof.timeDeltas;
let total = 0;
for (let i = 0; i < prof.samples.length; i++) {
  const n = byId.get(prof.samples[i]);
  const d = dt[i + 1] ?? 0;
  const cf = n.callFrame;
  const where = cf.url ? `${cf.url.replace(`file://${ROOT}/`, '').replace(/^node:/, 'node:')}:${cf.lineNumber + 1}` : '';
  const key = `${cf.functionName || '(anonymous)'}  ${where}`;
  if (RATE && key.startsWith('(idle)')) continue; // at a fixed rate the process is mostly idle
  total += d;
  self.set(key, (self.get(key) ?? 0) + d);
}
const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP);
const gwShare = [...self.entries()].filter(([k]) => k.includes('packages/gateway/dist')).reduce((a, [, v]) => a + v, 0);
console.log(`\nprofile ${join('bench/results/tmp', `prof-${TARGET}`, file)}: ${(total / 1e6).toFixed(1)} s sampled; self time in packages/gateway/dist: ${((gwShare / total) * 100).toFixed(1)}%`);
console.log('top functions by self time:');
for (const [k, v] of top) console.log(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
