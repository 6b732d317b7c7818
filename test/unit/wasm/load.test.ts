// Loading: files relative to baseDir, http(s) URLs (redirects, size and hash checks, the on-disk
// cache reused without the network), and the sha256 pin.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { isPublicAddress } from '../../../packages/gateway/src/plugins/wasm/address-guard.js';
import { loadWasmPlugin } from '../../../packages/gateway/src/plugins/wasm/index.js';
import { ctx, entry, FIXTURES, llmReq, opts, recordingLog, tmp } from './helpers.js';

const wasm = readFileSync(join(FIXTURES, 'rust-hello/rust-hello.wasm'));
const hash = createHash('sha256').update(wasm).digest('hex');
let server: Server;
let base = '';
let hits = 0;

before(async () => {
  server = createServer((req, res) => {
    hits++;
    const m = /^\/redirect\/(\d+)$/.exec(req.url ?? '');
    if (m) {
      const n = Number(m[1]);
      res.writeHead(302, { location: n > 0 ? `/redirect/${n - 1}` : '/plugin.wasm' }).end();
    } else if (req.url === '/plugin.wasm') {
      res.writeHead(200, { 'content-type': 'application/wasm' }).end(wasm);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  base = `http://127.0.0.1:${addr.port}`;
});
after(() => server.close());

test('load: a path relative to baseDir; the metered rewrite is cached under cacheDir', async () => {
  const o = { ...opts(), cacheDir: join(tmp, 'meter-cache') };
  const p = await loadWasmPlugin(entry('rust-hello/rust-hello.wasm'), o);
  assert.equal(typeof p.preLLMHook, 'function');
  assert.ok(readdirSync(join(o.cacheDir, 'wasm')).some((f) => f.startsWith('metered-') && f.endsWith('.wasm')));
  await p.cleanup!();
});

test('load: a missing file names the plugin and the path', async () => {
  await assert.rejects(loadWasmPlugin(entry('nope/missing.wasm', { name: 'ghost' }), opts()), /wasm plugin "ghost": cannot read .*nope\/missing\.wasm/);
});

test('load: URL download follows redirects, caches by content hash, reuses the cache without the network', async () => {
  const cacheDir = join(tmp, 'url-cache');
  const o = { ...opts(), cacheDir };
  hits = 0;
  const p = await loadWasmPlugin(entry(`${base}/redirect/3`, { name: 'remote', allow_private_url: true }), o);
  assert.equal(hits, 5);
  const c = ctx();
  await p.preLLMHook!(c, llmReq());
  assert.equal(c.values.rust_pre, true);
  assert.deepEqual(readFileSync(join(cacheDir, 'wasm', `${hash}.wasm`)), wasm);
  hits = 0;
  const again = await loadWasmPlugin(entry(`${base}/redirect/3`, { name: 'remote', allow_private_url: true }), o);
  assert.equal(hits, 0, 'second load came from the cache');
  await p.cleanup!();
  await again.cleanup!();
});

test('load: more than 5 redirects is refused', async () => {
  await assert.rejects(loadWasmPlugin(entry(`${base}/redirect/6`, { name: 'loopy', allow_private_url: true }), { ...opts(), cacheDir: join(tmp, 'c2') }), /wasm plugin "loopy": cannot download .*more than 5 redirects/);
});

test('load: HTTP errors are reported', async () => {
  await assert.rejects(loadWasmPlugin(entry(`${base}/missing.wasm`, { name: 'r404', allow_private_url: true }), { ...opts(), cacheDir: join(tmp, 'c3') }), /cannot download .*HTTP 404/);
});

test('load: sha256 pin accepts the right hash and refuses another, naming both', async () => {
  const ok = await loadWasmPlugin(entry('rust-hello/rust-hello.wasm', { sha256: hash.toUpperCase() }), opts());
  await ok.cleanup!();
  const wrong = 'ab'.repeat(32);
  await assert.rejects(loadWasmPlugin(entry('rust-hello/rust-hello.wasm', { name: 'pinned', sha256: wrong }), opts()), (err: Error) => {
    assert.match(err.message, /wasm plugin "pinned": sha256 mismatch/);
    assert.ok(err.message.includes(`expected ${wrong}`));
    assert.ok(err.message.includes(`got ${hash}`));
    return true;
  });
  await assert.rejects(loadWasmPlugin(entry(`${base}/plugin.wasm`, { name: 'pinned-url', sha256: wrong, allow_private_url: true }), { ...opts(), cacheDir: join(tmp, 'c4') }), /sha256 mismatch/);
  await assert.rejects(loadWasmPlugin(entry('rust-hello/rust-hello.wasm', { sha256: 'xyz' }), opts()), /sha256 must be 64 hex digits/);
});

test('load: a pinned URL whose content is cached loads without the network', async () => {
  const cacheDir = join(tmp, 'c5');
  const first = await loadWasmPlugin(entry(`${base}/plugin.wasm`, { sha256: hash, allow_private_url: true }), { ...opts(), cacheDir });
  await first.cleanup!();
  hits = 0;
  const p = await loadWasmPlugin(entry('http://127.0.0.1:1/unreachable.wasm', { sha256: hash }), { ...opts(), cacheDir });
  assert.equal(hits, 0);
  await p.cleanup!();
});

test('load: bad limits are refused with the plugin name', async () => {
  await assert.rejects(loadWasmPlugin(entry('rust-hello/rust-hello.wasm', { name: 'lim', limits: { memory_mb: -1 } }), opts()), /wasm plugin "lim": limits\.memory_mb must be a positive number/);
  await assert.rejects(loadWasmPlugin(entry('rust-hello/rust-hello.wasm', { name: 'lim', limits: { fuel: 0 } }), opts()), /limits\.fuel 0 \(no metering\) needs "isolation": "worker"/);
});

test('load: the load is logged with the effective limits', async () => {
  const log = recordingLog();
  const p = await loadWasmPlugin(entry('rust-hello/rust-hello.wasm', { name: 'logged' }), opts(log));
  const line = log.lines.find((l) => l.msg === 'wasm plugin loaded');
  assert.ok(line);
  assert.equal(line.obj.memory_mb, 64);
  assert.equal(line.obj.reported_name, 'rust-hello');
  await p.cleanup!();
});

test('load: URLs reaching loopback, private or link-local addresses are refused unless allow_private_url', async () => {
  const o = { ...opts(), cacheDir: join(tmp, 'c-private') };
  hits = 0;
  await assert.rejects(loadWasmPlugin(entry(`${base}/plugin.wasm`, { name: 'lit' }), o), /wasm plugin "lit": cannot download .*127\.0\.0\.1 resolves to 127\.0\.0\.1, a loopback, private or link-local address; set "allow_private_url": true/);
  // A name is checked on the address it resolves to.
  const byName = base.replace('127.0.0.1', 'localhost');
  await assert.rejects(loadWasmPlugin(entry(`${byName}/plugin.wasm`, { name: 'named' }), o), /wasm plugin "named": cannot download .*localhost resolves to (127\.0\.0\.1|::1), a loopback/);
  await assert.rejects(loadWasmPlugin(entry('http://169.254.169.254/latest/meta-data.wasm', { name: 'metadata' }), o), /169\.254\.169\.254 resolves to 169\.254\.169\.254/);
  assert.equal(hits, 0, 'nothing was fetched');
  const ok = await loadWasmPlugin(entry(`${byName}/plugin.wasm`, { name: 'named', allow_private_url: true }), o);
  await ok.cleanup!();
});

test('address guard: public and private ranges, IPv4 inside IPv6', () => {
  for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '172.32.0.1', '100.128.0.1']) assert.equal(isPublicAddress(a), true, a);
  for (const a of ['127.0.0.1', '10.1.2.3', '172.16.5.4', '192.168.1.1', '169.254.169.254', '0.0.0.0', '100.64.1.1', '::1', '::',
    'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:a00:1', '64:ff9b::a9fe:a9fe', '224.0.0.1', 'not-an-ip']) {
    assert.equal(isPublicAddress(a), false, a);
  }
});
