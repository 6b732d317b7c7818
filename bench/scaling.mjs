#!/usr/bin/env node
// Scaling from 1 to 2 worker processes (`gatehouse serve --workers N`, node:cluster), no plugins.
// Nothing is pinned: the gateway's processes, wrk and the mock upstream share every core, as they
// would on a small production box, so on a 2-core machine the load generator takes its share and
// little scaling is expected. Rounds alternate 1 and 2 workers; medians are reported.
// Usage: node bench/scaling.mjs [--rounds 3] [--duration 10] [--connections 50] [--mode chat|stream]
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { BENCH, GW_MAIN, TMP, freePort, gatewayNodeFlags, opt, sleep } from './harness.mjs';

const ROUNDS = Number(opt('rounds', 3));
const SECONDS = Number(opt('duration', 10));
const CONNS = Number(opt('connections', 50));
const MODE = opt('mode', 'chat');
const NODE_FLAGS = await gatewayNodeFlags();
const children = [];
const start = (cmd, args, env = {}) => {
  const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
  children.push(p);
  return p;
};
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

async function ready(url) {
  for (let i = 0; i < 300; i++) {
    try { if ((await fetch(url)).ok) return; } catch { /* not yet */ }
    await sleep(100);
  }
  throw new Error(`${url} did not come up`);
}

function wrk(url, bodyFile) {
  return new Promise((res, rej) => {
    const p = spawn('wrk', ['-t2', `-c${CONNS}`, `-d${SECONDS}s`, '--timeout', '5s', '-s', join(BENCH, 'bench.lua'), url],
      { env: { ...process.env, BODY_FILE: bodyFile, RATE: '0', HEADERS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('BENCHJSON '));
      if (!line) return rej(new Error(`wrk gave no result:\n${out}`));
      const j = JSON.parse(line.slice(10));
      res({ rps: j.requests / (j.duration_us / 1e6), p50: j.p50 / 1000, p99: j.p99 / 1000 });
    });
  });
}

const upPort = await freePort();
start(process.execPath, [join(BENCH, 'upstream.mjs'), '--port', String(upPort)]);
const targets = [];
for (const workers of [1, 2]) {
  const port = await freePort();
  const config = {
    server: { host: '127.0.0.1', port },
    providers: { openai: { keys: [{ value: 'sk-bench', models: ['*'] }], network_config: { base_url: `http://127.0.0.1:${upPort}` } } },
  };
  const file = join(TMP, `scaling-${workers}.config.json`);
  writeFileSync(file, JSON.stringify(config));
  start(process.execPath, [...NODE_FLAGS, GW_MAIN, 'serve', '-c', file, '--workers', String(workers)], { GATEHOUSE_LOG_LEVEL: 'warn' });
  targets.push({ workers, url: `http://127.0.0.1:${port}/v1/chat/completions`, health: `http://127.0.0.1:${port}/health` });
}
const bodyFile = join(TMP, `scaling.${MODE}.json`);
writeFileSync(bodyFile, JSON.stringify({
  model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello to the benchmark in one short sentence.' }],
  ...(MODE === 'stream' ? { stream: true } : {}),
}));
for (const t of targets) await ready(t.health);
for (const t of targets) await wrk(t.url, bodyFile); // warm-up
const results = { 1: [], 2: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const t of r % 2 ? [...targets].reverse() : targets) {
    const x = await wrk(t.url, bodyFile);
    results[t.workers].push(x);
    console.log(`round ${r + 1}  --workers ${t.workers}  ${Math.round(x.rps).toLocaleString('en-US').padStart(7)} req/s  p50 ${x.p50.toFixed(2)} ms  p99 ${x.p99.toFixed(2)} ms`);
  }
}
const med = (xs) => { const v = [...xs].sort((a, b) => a - b); const m = v.length >> 1; return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2; };
const one = med(results[1].map((x) => x.rps));
const two = med(results[2].map((x) => x.rps));
console.log(`\n${os.cpus().length} CPUs (${os.cpus()[0]?.model}); ${MODE}, ${CONNS} connections, wrk -t2, ${ROUNDS} x ${SECONDS} s, unpinned`);
console.log(`median req/s: 1 worker ${Math.round(one).toLocaleString('en-US')}, 2 workers ${Math.round(two).toLocaleString('en-US')}, scaling ${(two / one).toFixed(2)}x`);
process.exit(0);
