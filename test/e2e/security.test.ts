import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import wabtInit from 'wabt';
import { mockConfig, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startAnthropicUpstream } from '../mocks/anthropic-upstream.js';
import { startOpenAIUpstream } from '../mocks/openai-upstream.js';
import { bumpMalloc } from '../helpers/wat.js';

/**
 * Security, end to end through the gateway:
 * - WASM plugins get no filesystem, no environment, no network: a plugin that tries every WASI
 *   path, environment, argument, stdin and socket call gets an error (or nothing) from each, and
 *   the gateway's environment does not reach it; a module importing what the host does not provide
 *   is refused at load with a message naming the import.
 * - Provider keys never reach a plugin (a native plugin records every argument of every hook), a
 *   log line (debug level), or an answer, including when the provider echoes the key in its own
 *   error; the mock upstreams show that the key was sent (added after the plugins ran).
 * - Remote plugins: a pinned URL loads; a tampered file behind the same URL and pin is refused;
 *   a download over the size limit is refused (declared, and streamed). The unit tests in
 *   test/unit/wasm/load.test.ts cover redirects, HTTP errors and the cache.
 */

const dir = mkdtempSync(join(tmpdir(), 'gh-security-'));
const wabt = await wabtInit();
function wat(src: string): Uint8Array {
  const m = wabt.parseWat('t.wat', src, {});
  m.resolveNames();
  m.validate();
  return new Uint8Array(m.toBinary({}).buffer);
}
function writeWasm(name: string, src: string): string {
  const file = join(dir, name);
  writeFileSync(file, wat(src));
  return file;
}

// ---- WASI sandbox -------------------------------------------------------------------------------

/** Each probe: a name, and the WAT that calls it (results go to $rec slots). */
const PROBES: Array<{ name: string; code: string }> = [
  // errno of path_open on the first would-be preopen (fd 3), /etc/passwd
  { name: 'path_open(3, "/etc/passwd")', code: '(call $rec (i32.const 0) (call $path_open (i32.const 3) (i32.const 0) (i32.const 768) (i32.const 11) (i32.const 0) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 256)))' },
  { name: 'path_open(3, ".") opened fd', code: '(call $rec (i32.const 1) (i32.load (i32.const 256)))' },
  { name: 'fd_prestat_get(3)', code: '(call $rec (i32.const 2) (call $fd_prestat_get (i32.const 3) (i32.const 256)))' },
  { name: 'environ_sizes_get', code: '(call $rec (i32.const 3) (call $environ_sizes_get (i32.const 264) (i32.const 268)))' },
  { name: 'environ count', code: '(call $rec (i32.const 4) (i32.load (i32.const 264)))' },
  { name: 'environ bytes', code: '(call $rec (i32.const 5) (i32.load (i32.const 268)))' },
  { name: 'environ_get', code: '(call $rec (i32.const 6) (call $environ_get (i32.const 384) (i32.const 8192)))' },
  { name: 'args_sizes_get argc', code: '(drop (call $args_sizes_get (i32.const 272) (i32.const 276))) (call $rec (i32.const 7) (i32.load (i32.const 272)))' },
  { name: 'sock_accept(3)', code: '(call $rec (i32.const 8) (call $sock_accept (i32.const 3) (i32.const 0) (i32.const 280)))' },
  { name: 'sock_recv(3)', code: '(call $rec (i32.const 9) (call $sock_recv (i32.const 3) (i32.const 512) (i32.const 1) (i32.const 0) (i32.const 284) (i32.const 288)))' },
  { name: 'sock_send(3)', code: '(call $rec (i32.const 10) (call $sock_send (i32.const 3) (i32.const 512) (i32.const 1) (i32.const 0) (i32.const 284)))' },
  { name: 'sock_shutdown(3)', code: '(call $rec (i32.const 11) (call $sock_shutdown (i32.const 3) (i32.const 2)))' },
  { name: 'fd_read(0) bytes', code: '(drop (call $fd_read (i32.const 0) (i32.const 512) (i32.const 1) (i32.const 292))) (call $rec (i32.const 12) (i32.load (i32.const 292)))' },
  { name: 'path_filestat_get(3)', code: '(call $rec (i32.const 13) (call $path_filestat_get (i32.const 3) (i32.const 0) (i32.const 768) (i32.const 11) (i32.const 8192)))' },
  { name: 'fd_readdir(3)', code: '(call $rec (i32.const 14) (call $fd_readdir (i32.const 3) (i32.const 8192) (i32.const 1024) (i64.const 0) (i32.const 296)))' },
  { name: 'fd_write(3)', code: '(call $rec (i32.const 15) (call $fd_write (i32.const 3) (i32.const 512) (i32.const 1) (i32.const 300)))' },
  { name: 'path_create_directory(3)', code: '(call $rec (i32.const 16) (call $path_create_directory (i32.const 3) (i32.const 768) (i32.const 4)))' },
  { name: 'path_unlink_file(3)', code: '(call $rec (i32.const 17) (call $path_unlink_file (i32.const 3) (i32.const 768) (i32.const 11)))' },
];
const PREFIX = '{"response":{"status_code":200,"headers":{"content-type":"application/json","x-wasi":"';
const SUFFIX = '"},"body":"e30="},"has_response":true}';
const HEX_AT = 1024 + PREFIX.length;
const OUT_LEN = PREFIX.length + PROBES.length * 8 + SUFFIX.length;

const PROBE_WAT = `(module
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func $sock_accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_recv" (func $sock_recv (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $sock_send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_shutdown" (func $sock_shutdown (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $path_create_directory (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $path_unlink_file (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ${bumpMalloc(16384)}
  (func (export "free") (param i32))
  (data (i32.const 512) "\\00\\06\\00\\00\\08\\00\\00\\00")
  (data (i32.const 768) "/etc/passwd")
  (data (i32.const 1024) ${JSON.stringify(PREFIX)})
  (data (i32.const ${HEX_AT + PROBES.length * 8}) ${JSON.stringify(SUFFIX)})
  (func $rec (param $i i32) (param $v i32) (local $k i32) (local $n i32)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $k) (i32.const 8)))
      (local.set $n (i32.and (i32.shr_u (local.get $v) (i32.sub (i32.const 28) (i32.shl (local.get $k) (i32.const 2)))) (i32.const 15)))
      (i32.store8 (i32.add (i32.add (i32.const ${HEX_AT}) (i32.shl (local.get $i) (i32.const 3))) (local.get $k))
        (select (i32.add (local.get $n) (i32.const 48)) (i32.add (local.get $n) (i32.const 87)) (i32.lt_u (local.get $n) (i32.const 10))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $l))))
  (func (export "http_pre_hook") (param i32 i32) (result i64)
    ;; sentinels in every out slot, so a slot the host never wrote reads 0xdeadbeef
    (i32.store (i32.const 256) (i32.const 0xdeadbeef))
    (i32.store (i32.const 264) (i32.const 0xdeadbeef))
    (i32.store (i32.const 268) (i32.const 0xdeadbeef))
    (i32.store (i32.const 272) (i32.const 0xdeadbeef))
    (i32.store (i32.const 292) (i32.const 0xdeadbeef))
    ${PROBES.map((p) => p.code).join('\n    ')}
    (i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const ${OUT_LEN}))))`;

const ESUCCESS = 0;
const SENTINEL = 0xdeadbeef;

describe('WASM sandbox', () => {
  test('every filesystem, environment, argument, stdin and socket call fails or yields nothing', async () => {
    const canary = `canary-${randomBytes(8).toString('hex')}`;
    process.env.GH_SECURITY_CANARY = canary;
    const gw = await startTestGateway(mockConfig({ plugins: [{ name: 'prober', path: writeWasm('prober.wasm', PROBE_WAT) }] }));
    try {
      const res = await fetch(`${gw.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock/m', messages: [{ role: 'user', content: 'hi' }] }) });
      assert.equal(res.status, 200);
      const hex = res.headers.get('x-wasi') ?? '';
      assert.equal(hex.length, PROBES.length * 8, `x-wasi: ${hex}`);
      const r = Object.fromEntries(PROBES.map((p, i) => [p.name, parseInt(hex.slice(i * 8, i * 8 + 8), 16)]));
      const failed = (name: string): void => assert.ok(r[name] !== ESUCCESS && r[name] !== SENTINEL, `${name} -> ${r[name]}`);
      // Filesystem: no preopened directory, so nothing can be opened, listed, created or removed.
      for (const n of ['path_open(3, "/etc/passwd")', 'fd_prestat_get(3)', 'path_filestat_get(3)', 'fd_readdir(3)', 'fd_write(3)', 'path_create_directory(3)', 'path_unlink_file(3)']) failed(n);
      assert.equal(r['path_open(3, ".") opened fd'], SENTINEL, 'path_open wrote a file descriptor');
      // Network: every socket call fails.
      for (const n of ['sock_accept(3)', 'sock_recv(3)', 'sock_send(3)', 'sock_shutdown(3)']) failed(n);
      // Environment and arguments: empty. Stdin: at its end.
      assert.equal(r.environ_sizes_get, ESUCCESS);
      assert.equal(r['environ count'], 0);
      assert.equal(r['environ bytes'], 0);
      assert.equal(r.environ_get, ESUCCESS);
      assert.equal(r['args_sizes_get argc'], 0);
      assert.equal(r['fd_read(0) bytes'], 0);
      assert.ok(!JSON.stringify(gw.logs).includes(canary), 'the environment reached the log');
    } finally {
      delete process.env.GH_SECURITY_CANARY;
      await gw.close();
    }
  });

  test('a module importing what the host does not provide is refused at load, naming the import', async () => {
    const base = '(memory (export "memory") 1) (func (export "malloc") (param i32) (result i32) (i32.const 1024)) (func (export "pre_hook") (param i32 i32) (result i64) (i64.const 0))';
    const cases: Array<[string, string, RegExp]> = [
      ['sock_open', '(import "wasi_snapshot_preview1" "sock_open" (func (param i32 i32 i32) (result i32)))', /import "wasi_snapshot_preview1\.sock_open" is not a wasi_snapshot_preview1 function the gateway provides/],
      ['getenv', '(import "env" "getenv" (func (param i32) (result i32)))', /import "env\.getenv" is not provided by the gateway/],
      ['wasi sockets', '(import "wasi:sockets/tcp" "connect" (func (param i32) (result i32)))', /import "wasi:sockets\/tcp\.connect" is not provided by the gateway/],
      ['host global', '(import "env" "secret" (global i32))', /import "env\.secret" is a global; the gateway provides only functions/],
    ];
    for (const [name, imp, msg] of cases) {
      const file = writeWasm(`refused-${name.replace(/\W/g, '_')}.wasm`, `(module ${imp} ${base})`);
      await assert.rejects(startTestGateway(mockConfig({ plugins: [{ name: `refused-${name}`, path: file }] })), (err: Error) => {
        assert.match(err.message, new RegExp(`plugin "refused-${name}"`));
        assert.match(err.message, msg);
        return true;
      }, name);
    }
  });
});

// ---- provider keys ------------------------------------------------------------------------------

const RECORDER = join(dir, 'recorder.mjs');
writeFileSync(RECORDER, `
const enc = (v) => JSON.stringify(v, (k, x) => (x instanceof Uint8Array ? Buffer.from(x).toString('utf8') : x));
export default function recorder() {
  const rec = (hook, args) => (globalThis.__ghSeen ??= []).push(hook + ' ' + enc(args));
  return {
    name: 'recorder',
    httpTransportPreHook(ctx, req) { rec('httpTransportPreHook', [ctx, req]); },
    preLLMHook(ctx, req) { rec('preLLMHook', [ctx, req]); },
    postLLMHook(ctx, resp, err) { rec('postLLMHook', [ctx, resp, err]); },
    httpTransportStreamChunkHook(ctx, req, chunk) { rec('httpTransportStreamChunkHook', [ctx, req, chunk]); return chunk; },
    httpTransportPostHook(ctx, req, resp) { rec('httpTransportPostHook', [ctx, req, resp]); },
  };
}
`);
const seen = (): string[] => ((globalThis as { __ghSeen?: string[] }).__ghSeen ??= []);

describe('provider keys', () => {
  const openaiKey = `sk-openai-SECRET-${randomBytes(12).toString('hex')}`;
  const anthropicKey = `sk-ant-SECRET-${randomBytes(12).toString('hex')}`;
  const wrongKey = `sk-wrong-SECRET-${randomBytes(12).toString('hex')}`;

  test('never reach plugins, logs or answers; the upstreams receive them', async () => {
    const openai = await startOpenAIUpstream({ keys: [openaiKey] });
    const anthropic = await startAnthropicUpstream({ keys: [anthropicKey] });
    seen().length = 0;
    const gw = await startTestGateway({
      providers: {
        openai: { keys: [{ value: 'env.GH_TEST_OPENAI_KEY', models: [] }], network_config: { base_url: openai.url } },
        anthropic: { keys: [{ value: anthropicKey, models: [] }], network_config: { base_url: anthropic.url } },
      },
      plugins: [{ name: 'recorder', path: RECORDER }],
    }, { env: { ...process.env, GH_TEST_OPENAI_KEY: openaiKey } });
    const answers: string[] = [];
    try {
      for (const model of ['openai/gpt-4o-mini', 'anthropic/claude-3-5-haiku-latest']) {
        for (const stream of [false, true]) {
          const res = await fetch(`${gw.baseURL}/chat/completions`, {
            method: 'POST',
            // The client's own credentials are the client's: plugins may see those.
            headers: { 'content-type': 'application/json', authorization: 'Bearer client-token' },
            body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }], stream }),
          });
          const text = await res.text();
          answers.push(`${res.status} ${JSON.stringify([...res.headers])} ${text}`);
          assert.equal(res.status, 200, `${model} stream=${stream}: ${text}`);
        }
      }
      // A provider error (upstream 500, then a retry) and an embeddings call, too.
      openai.enqueue({ status: 500, message: 'upstream broke' });
      const e = await fetch(`${gw.baseURL}/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'openai/text-embedding-3-small', input: 'x' }) });
      answers.push(await e.text());
    } finally {
      await gw.close();
      await openai.close();
      await anthropic.close();
    }
    // The upstreams got the keys: the gateway added them after the plugins ran.
    assert.ok(openai.requests.length >= 3 && openai.requests.every((r) => r.key === openaiKey), 'openai upstream did not get the key');
    assert.ok(anthropic.requests.length >= 2 && anthropic.requests.every((r) => r.key === anthropicKey), 'anthropic upstream did not get the key');
    // Every hook ran, and none saw a key.
    const hooks = new Set(seen().map((s) => s.split(' ')[0]));
    assert.deepEqual([...hooks].sort(), ['httpTransportPostHook', 'httpTransportPreHook', 'httpTransportStreamChunkHook', 'postLLMHook', 'preLLMHook']);
    assert.ok(seen().some((s) => s.includes('client-token')), 'the recorder did not see the request headers');
    for (const key of [openaiKey, anthropicKey]) {
      const secretPart = key.slice(-24);
      assert.ok(!seen().some((s) => s.includes(secretPart)), 'a plugin received a provider key');
      assert.ok(!JSON.stringify(gw.logs).includes(secretPart), 'a provider key is in the log');
      assert.ok(!answers.some((a) => a.includes(secretPart)), 'a provider key is in an answer');
    }
    assert.ok(gw.logs.some((l) => l.level === 20), 'the log was not at debug level');
  });

  test('a provider that echoes a rejected key in its error: the key reaches neither the client nor the log', async () => {
    const openai = await startOpenAIUpstream({ keys: ['the-right-key'] });
    seen().length = 0;
    const gw = await startTestGateway({
      providers: { openai: { keys: [{ value: wrongKey, models: [] }], network_config: { base_url: openai.url } } },
      plugins: [{ name: 'recorder', path: RECORDER }],
    });
    let text = '';
    let status = 0;
    try {
      const res = await fetch(`${gw.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }) });
      status = res.status;
      text = await res.text();
    } finally {
      await gw.close();
      await openai.close();
    }
    assert.equal(openai.requests[0]?.key, wrongKey);
    assert.ok(status >= 400, `status ${status}`);
    const secretPart = wrongKey.slice(-24);
    assert.ok(!text.includes(secretPart), `the key is in the answer: ${text}`);
    assert.match(text, /Incorrect API key provided: \[redacted\]/);
    assert.ok(!JSON.stringify(gw.logs).includes(secretPart), 'the key is in the log');
    assert.ok(!seen().some((s) => s.includes(secretPart)), 'a plugin received the key (in the provider error)');
  });
});

// ---- remote plugins -----------------------------------------------------------------------------

describe('remote plugin download', () => {
  const good = readFileSync(new URL('../fixtures/wasm/rust-hello/rust-hello.wasm', import.meta.url));
  const pin = createHash('sha256').update(good).digest('hex');
  let serve: (res: import('node:http').ServerResponse) => void = (res) => res.end(good);
  let server: Server;
  let base = '';
  const cacheBefore = process.env.GATEHOUSE_CACHE_DIR;
  const withCache = (): void => { process.env.GATEHOUSE_CACHE_DIR = mkdtempSync(join(dir, 'cache-')); };

  test('a pinned URL loads; a tampered file behind the same URL is refused', async () => {
    server = createServer((_req, res) => serve(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    withCache();
    const gw = await startTestGateway(mockConfig({ plugins: [{ name: 'remote', path: `${base}/rust-hello.wasm`, sha256: pin, allow_private_url: true }] }));
    const res = await fetch(`${gw.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock/m', messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(res.status, 200);
    await gw.close();

    withCache();
    const tampered = Buffer.from(good);
    tampered[tampered.length - 1]! ^= 0xff;
    serve = (r) => r.end(tampered);
    await assert.rejects(startTestGateway(mockConfig({ plugins: [{ name: 'remote', path: `${base}/rust-hello.wasm`, sha256: pin, allow_private_url: true }] })), (err: Error) => {
      assert.match(err.message, /plugin "remote" .*sha256 mismatch/);
      assert.ok(err.message.includes(`expected ${pin}`));
      return true;
    });
  });

  test('a download over the size limit is refused, declared or streamed', async () => {
    withCache();
    serve = (r) => { r.writeHead(200, { 'content-length': String(65 << 20) }); r.write(good.subarray(0, 100)); setTimeout(() => r.destroy(), 2000).unref(); };
    await assert.rejects(startTestGateway(mockConfig({ plugins: [{ name: 'big', path: `${base}/big.wasm`, allow_private_url: true }] })), /plugin "big".*over the 67108864 byte limit/);
    withCache();
    const chunk = Buffer.alloc(1 << 20);
    serve = (r) => {
      r.writeHead(200);
      let n = 0;
      const more = (): void => { while (n < 70 && r.write(chunk)) n++; if (n < 70 && !r.destroyed) r.once('drain', () => { n++; more(); }); else r.end(); };
      more();
    };
    const t0 = performance.now();
    await assert.rejects(startTestGateway(mockConfig({ plugins: [{ name: 'big', path: `${base}/big.wasm`, allow_private_url: true }] })), /plugin "big".*body is over the 67108864 byte limit/);
    assert.ok(performance.now() - t0 < 10_000);
  });

  after(() => {
    if (cacheBefore === undefined) delete process.env.GATEHOUSE_CACHE_DIR;
    else process.env.GATEHOUSE_CACHE_DIR = cacheBefore;
    server?.closeAllConnections();
    server?.close();
  });
});
