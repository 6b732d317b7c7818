import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import wabtInit from 'wabt';
import { killGroup, startCli, writeConfig } from '../helpers/cli.js';
import { bumpMalloc } from '../helpers/wat.js';

/**
 * SIGTERM to `gatehouse serve` with non-streaming requests and streams in flight. With a grace
 * period long enough, every request finishes normally (streams to [DONE]); with a short one, the
 * unfinished ones are cut at the end of the grace period and the process still exits promptly.
 * Either way `cleanup` runs for every plugin (a native one writes a marker file per process; a
 * WASM one prints from its `cleanup` through WASI fd_write, which lands in the gateway's log) and
 * the exit code is 0. Once with `--workers 1`, once with `--workers 2` (cluster).
 */

const dir = mkdtempSync(join(tmpdir(), 'gh-shutdown-'));
const NATIVE = join(dir, 'marker.mjs');
// preLLMHook sleeps for `sleep:<ms>` found in the user message (a non-streaming request that stays
// in flight); cleanup writes <markers>/<pid> once (a second call would append).
writeFileSync(NATIVE, `
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
export default function marker(cfg) {
  return {
    name: 'marker',
    async preLLMHook(ctx, req) {
      const m = /sleep:(\\d+)/.exec(JSON.stringify(req.input));
      if (m) await new Promise((r) => setTimeout(r, Number(m[1])));
    },
    cleanup() { appendFileSync(join(cfg.dir, String(process.pid)), 'cleanup\\n'); },
  };
}
`);

const WASM = join(dir, 'bye.wasm');
{
  const wabt = await wabtInit();
  const m = wabt.parseWat('bye.wat', `(module
    (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    ${bumpMalloc(4096)}
    (func (export "free") (param i32))
    (func (export "pre_hook") (param i32 i32) (result i64) (global.set $bump (i32.const 4096)) (i64.const 0))
    (data (i32.const 64) "bye-wasm: cleanup ran\\n")
    (func (export "cleanup") (result i32)
      (i32.store (i32.const 16) (i32.const 64))
      (i32.store (i32.const 20) (i32.const 22))
      (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))
      (i32.const 0)))`, {});
  m.resolveNames();
  m.validate();
  writeFileSync(WASM, new Uint8Array(m.toBinary({}).buffer));
}

function config(markers: string, graceSeconds: number, chunkDelayMs: number): string {
  return writeConfig({
    providers: { mock: { keys: [{ value: '', models: [] }], meta_config: { chunk_delay_ms: chunkDelayMs } } },
    client: { shutdown_grace_seconds: graceSeconds },
    plugins: [
      { name: 'marker', enabled: true, path: NATIVE, config: { dir: markers } },
      { name: 'bye-wasm', enabled: true, path: WASM },
    ],
  });
}

interface Outcome { status: number; body: string; error: string | null }

/** Starts a request and resolves once its response headers are in (the request is in flight). */
async function inFlight(url: string, content: string, stream: boolean): Promise<{ done: Promise<Outcome> }> {
  const res = fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock/m', messages: [{ role: 'user', content }], stream }),
  });
  if (!stream) {
    // Non-streaming: no byte comes back before the answer; the request is in flight once sent.
    const done = res.then(async (r) => ({ status: r.status, body: await r.text(), error: null }), (e: Error) => ({ status: 0, body: '', error: String(e.cause ?? e) }));
    return { done };
  }
  const r = await res;
  const reader = r.body!.getReader();
  let body = '';
  const first = await reader.read();
  body += new TextDecoder().decode(first.value);
  const done = (async (): Promise<Outcome> => {
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) return { status: r.status, body, error: null };
        body += new TextDecoder().decode(value);
      }
    } catch (e) {
      return { status: r.status, body, error: String((e as Error).message) };
    }
  })();
  return { done };
}

function exited(child: ChildProcess, ms: number): Promise<{ code: number | null; signal: string | null; afterMs: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no exit within ${ms} ms`)); }, ms);
    child.once('exit', (code, signal) => { clearTimeout(t); resolve({ code, signal, afterMs: performance.now() - t0 }); });
  });
}

const WORDS = Array.from({ length: 12 }, (_, i) => `w${i}`).join(' ');

test('SIGTERM (--workers 1): in-flight requests and streams finish, cleanup runs for every plugin, exit 0', async () => {
  const markers = mkdtempSync(join(dir, 'm1-'));
  const { child, url, output } = await startCli(['-c', config(markers, 10, 60), '--port', '0', '--workers', '1']);
  try {
    const streams = await Promise.all([inFlight(url, WORDS, true), inFlight(url, WORDS, true), inFlight(url, WORDS, true)]);
    const plain = await Promise.all([inFlight(url, 'sleep:700 a', false), inFlight(url, 'sleep:900 b', false)]);
    await new Promise((r) => setTimeout(r, 150));
    const exit = exited(child, 15_000);
    child.kill('SIGTERM');
    // A new connection after SIGTERM is not served (the listener is closed).
    await new Promise((r) => setTimeout(r, 50));
    const late = await fetch(`${url}/v1/models`).then((r) => r.status, (e: Error) => String(e.cause ?? e));
    assert.notEqual(late, 200, 'a new request was served after SIGTERM');

    for (const s of streams) {
      const o = await s.done;
      assert.equal(o.error, null, `stream cut: ${o.error}`);
      assert.equal(o.status, 200);
      assert.match(o.body, /data: \[DONE\]\n\n$/, 'stream did not finish');
      assert.match(o.body, /"content":"w11"/);
    }
    for (const p of plain) {
      const o = await p.done;
      assert.equal(o.error, null, `request failed: ${o.error}`);
      assert.equal(o.status, 200, o.body);
      assert.match(JSON.parse(o.body).choices[0].message.content, /^Echo: sleep:\d+ [ab]$/);
    }
    const { code, signal } = await exit;
    assert.equal(signal, null);
    assert.equal(code, 0, output());
    // cleanup ran once for the native plugin, and for the WASM one (its print is in the log).
    assert.deepEqual(readdirSync(markers), [String(child.pid)]);
    assert.equal(readFileSync(join(markers, String(child.pid)), 'utf8'), 'cleanup\n');
    assert.match(output(), /"plugin":"bye-wasm".*bye-wasm: cleanup ran/);
    assert.match(output(), /"clean":true.*"msg":"stopped"/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('SIGTERM with a short grace period: unfinished streams are cut after it with an error event, cleanup still runs, exit 0', async () => {
  const markers = mkdtempSync(join(dir, 'm2-'));
  // 12 words at 400 ms each: about 5 s per stream; the grace period is 0.5 s.
  const { child, url, output } = await startCli(['-c', config(markers, 0.5, 400), '--port', '0', '--workers', '1']);
  try {
    const streams = await Promise.all([inFlight(url, WORDS, true), inFlight(url, WORDS, true)]);
    const plain = await inFlight(url, 'sleep:3000 slow', false);
    await new Promise((r) => setTimeout(r, 100));
    const exit = exited(child, 10_000);
    const t0 = performance.now();
    child.kill('SIGTERM');
    for (const s of streams) {
      const o = await s.done;
      assert.equal(o.status, 200);
      // Cut: the stream ends early, without [DONE], its last event saying why.
      assert.doesNotMatch(o.body, /\[DONE\]/);
      assert.ok(!o.body.includes('"content":"w11"'), 'stream was not cut');
      const last = o.body.trim().split('\n\n').pop()!;
      assert.match(last, /^data: \{"error":\{"message":"the gateway is shutting down; the stream was cut at the end of the shutdown grace period","type":"api_error","code":"GH_ERR_SHUTTING_DOWN"/, o.body);
      assert.equal(o.error, null, 'the stream ended cleanly (chunked terminator), not as a broken connection');
    }
    const p = await plain.done;
    assert.equal(p.status, 0, `a request past the grace period was answered: ${p.status} ${p.body}`);
    assert.ok(p.error, 'the client saw no error');
    const { code, afterMs } = await exit;
    assert.equal(code, 0, output());
    const took = performance.now() - t0;
    assert.ok(afterMs < 3000 && took < 3000, `exit took ${took.toFixed(0)} ms with a 0.5 s grace period`);
    assert.deepEqual(readdirSync(markers), [String(child.pid)]);
    assert.match(output(), /bye-wasm: cleanup ran/);
    assert.match(output(), /stopped after the grace period/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('SIGTERM (--workers 2): every worker drains and cleans up, the primary exits 0', async () => {
  const markers = mkdtempSync(join(dir, 'm3-'));
  const { child, url, output } = await startCli(['-c', config(markers, 10, 60), '--port', '0', '--workers', '2']);
  try {
    // Both workers listening: the banner comes once the first is up; give the second a moment.
    await new Promise((r) => setTimeout(r, 1500));
    const streams = await Promise.all(Array.from({ length: 4 }, () => inFlight(url, WORDS, true)));
    const plain = await Promise.all([inFlight(url, 'sleep:600 a', false), inFlight(url, 'sleep:600 b', false)]);
    await new Promise((r) => setTimeout(r, 100));
    const exit = exited(child, 20_000);
    child.kill('SIGTERM');
    for (const s of streams) {
      const o = await s.done;
      assert.equal(o.error, null, `stream cut: ${o.error}`);
      assert.match(o.body, /data: \[DONE\]\n\n$/);
    }
    for (const p of plain) assert.equal((await p.done).status, 200);
    const { code } = await exit;
    assert.equal(code, 0, output());
    const files = readdirSync(markers);
    assert.equal(files.length, 2, `cleanup markers: ${files.join(', ')}\n${output()}`);
    assert.ok(!files.includes(String(child.pid)), 'the primary loads no plugins');
    for (const f of files) assert.equal(readFileSync(join(markers, f), 'utf8'), 'cleanup\n');
    assert.equal(output().match(/bye-wasm: cleanup ran/g)?.length, 2, output());
  } finally {
    child.kill('SIGKILL');
  }
  assert.ok(existsSync(markers));
});

// `gatehouse serve | head`: the reader of stdout is gone, so every log line fails with EPIPE. The
// first failing write is the shutdown line itself: SIGTERM must still drain and end the process (it
// used to loop forever in the logger's exit flush, retrying that write).
for (const workers of ['1', '2']) {
  test(`SIGTERM with stdout closed by its reader (--workers ${workers}): drains, cleans up, exits 0`, async () => {
    const markers = mkdtempSync(join(dir, `pipe${workers}-`));
    const { child, url, output } = await startCli(['-c', config(markers, 10, 0), '--port', '0', '--workers', workers], {}, { detached: true });
    try {
      if (workers !== '1') await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await inFlight(url, 'a', false).then((f) => f.done)).status, 200);
      child.stdout!.destroy();
      await new Promise((r) => setTimeout(r, 200));
      // No request in between: the shutdown line is the first write into the closed pipe, and the
      // process exits before that write has failed (the case that hung).
      const exit = exited(child, 10_000);
      child.kill('SIGTERM');
      const { code, signal } = await exit;
      assert.equal(signal, null);
      assert.equal(code, 0, output());
      assert.equal(readdirSync(markers).length, Number(workers), 'cleanup ran in every worker');
    } finally {
      killGroup(child);
    }
  });

  // SIGHUP's default action ends a process (a closed terminal, `kill -HUP` by habit): logged, ignored.
  test(`SIGHUP (--workers ${workers}) is logged and ignored; SIGTERM still exits 0`, async () => {
    const markers = mkdtempSync(join(dir, `hup${workers}-`));
    const { child, url, output } = await startCli(['-c', config(markers, 10, 0), '--port', '0', '--workers', workers], {}, { detached: true });
    try {
      if (workers !== '1') await new Promise((r) => setTimeout(r, 1500));
      child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(child.exitCode, null, `SIGHUP ended the gateway: ${output()}`);
      assert.equal(child.signalCode, null, `SIGHUP ended the gateway: ${output()}`);
      assert.match(output(), /SIGHUP.*ignored/);
      assert.equal((await inFlight(url, 'b', false).then((f) => f.done)).status, 200, 'still serving after SIGHUP');
      const exit = exited(child, 10_000);
      child.kill('SIGTERM');
      assert.equal((await exit).code, 0, output());
    } finally {
      killGroup(child);
    }
  });
}
