import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';
import { constHooksWat } from '../fixtures/hostile/const-hooks.js';
import { mockConfig, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Hostile plugins against the boundary, end to end over raw HTTP (the bytes on the wire, so two
 * framings on one response are visible, not merged by a client):
 * - framing headers (content-length, transfer-encoding, connection, ... in any case) from a WASM
 *   http_post_hook, a WASM http_pre_hook short-circuit and a native post-hook are dropped: the
 *   answer carries exactly the gateway's own content-length, the plugin's other headers stay, and
 *   one warning per plugin names the dropped headers;
 * - prototype pollution: a WASM plugin returning `{"context":{"__proto__":{...}}}` does not change
 *   the context's prototype (a native plugin after it sees no forged `gatehouse.*` key), and a
 *   client header named `toString` reaches plugins as the client's value.
 */
const dir = mkdtempSync(join(tmpdir(), 'gh-hostile-'));
const PROBE = fileURLToPath(new URL('../fixtures/plugins/proto-probe.mjs', import.meta.url));
const wabt = await wabtInit();
function wasmFile(name: string, src: string): string {
  const m = wabt.parseWat(`${name}.wat`, src, {});
  m.resolveNames();
  m.validate();
  const file = join(dir, `${name}.wasm`);
  writeFileSync(file, new Uint8Array(m.toBinary({}).buffer));
  return file;
}

const FRAMING = { 'Content-Length': '2', 'Transfer-Encoding': 'chunked', CONNECTION: 'close', 'Keep-Alive': 'timeout=1', upgrade: 'h2c', TE: 'trailers', Trailer: 'x-evil' };
const b64 = (s: string): string => Buffer.from(s).toString('base64');

interface Wire { status: number; headerLines: Array<[string, string]>; raw: string }

/** One POST on a fresh socket; the raw answer as sent, header lines in order (duplicates kept). */
function wireRequest(port: number, headers: Record<string, string>, body: string): Promise<Wire> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    const head = Object.entries({ host: 'x', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), connection: 'close', ...headers })
      .map(([k, v]) => `${k}: ${v}\r\n`).join('');
    s.on('connect', () => s.write(`POST /v1/chat/completions HTTP/1.1\r\n${head}\r\n${body}`));
    s.on('data', (d) => parts.push(d));
    s.on('error', reject);
    const timer = setTimeout(() => s.destroy(), 5000);
    s.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(parts).toString('latin1');
      const [headText = ''] = raw.split('\r\n\r\n', 1);
      const [statusLine = '', ...lines] = headText.split('\r\n');
      resolve({
        status: Number(statusLine.split(' ')[1] ?? 0),
        headerLines: lines.map((l) => { const i = l.indexOf(':'); return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()] as [string, string]; }),
        raw,
      });
    });
  });
}

const chatBody = JSON.stringify({ model: 'mock/m', messages: [{ role: 'user', content: 'hi' }] });
const named = (w: Wire, name: string): string[] => w.headerLines.filter(([k]) => k === name).map(([, v]) => v);

function assertOneFraming(w: Wire): void {
  assert.deepEqual(named(w, 'transfer-encoding'), [], w.raw);
  assert.deepEqual(named(w, 'keep-alive'), [], w.raw);
  assert.deepEqual(named(w, 'upgrade'), [], w.raw);
  assert.deepEqual(named(w, 'te'), [], w.raw);
  assert.deepEqual(named(w, 'trailer'), [], w.raw);
  const lengths = named(w, 'content-length');
  assert.equal(lengths.length, 1, `content-length lines: ${JSON.stringify(lengths)}\n${w.raw}`);
  const body = w.raw.slice(w.raw.indexOf('\r\n\r\n') + 4);
  assert.equal(Number(lengths[0]), Buffer.byteLength(body, 'latin1'), 'the one content-length is the body\'s real length');
  // The client asked for close; nothing else (no plugin's "close" beside a keep-alive) is there.
  assert.ok(named(w, 'connection').length <= 1, w.raw);
}

describe('framing headers from plugins', () => {
  let gw: TestGateway;
  after(() => gw?.close());

  test('dropped from a WASM http_post_hook, a WASM short-circuit and a native post-hook; logged once per plugin', async () => {
    const post = wasmFile('framing-post', constHooksWat({ http_post_hook: JSON.stringify({ response: { headers: { ...FRAMING, 'x-plugin': 'kept' } } }) }));
    const short = wasmFile('framing-short', constHooksWat({
      http_pre_hook: JSON.stringify({ response: { status_code: 200, headers: { 'content-type': 'application/json', ...FRAMING }, body: b64('{"short":true}') }, has_response: true }),
    }));
    const nativeFile = join(dir, 'framing-native.mjs');
    writeFileSync(nativeFile, `export default { name: 'framing-native', httpTransportPostHook(_c, _r, resp) { if (resp) { resp.headers['Content-Length'] = '2'; resp.headers['transfer-encoding'] = 'chunked'; resp.headers['x-native'] = 'kept'; } } };`);
    gw = await startTestGateway(mockConfig({
      plugins: [
        { name: 'framing-native', path: nativeFile },
        { name: 'framing-post', path: post },
        { name: 'framing-short', path: short, enabled: true },
      ].map((p, i) => ({ ...p, order: i })),
    }));
    // framing-short answers every request before the others' post-hooks run... so one gateway per
    // plugin would hide the post-hook path. Instead the short-circuiting plugin runs last (order 2):
    // its answer then goes through the post-hooks of the two before it.
    for (let i = 0; i < 3; i++) {
      const w = await wireRequest(gw.port, {}, chatBody);
      assert.equal(w.status, 200, w.raw);
      assertOneFraming(w);
      assert.ok(w.raw.endsWith('{"short":true}'), w.raw);
      assert.deepEqual(named(w, 'x-plugin'), ['kept']);
      assert.deepEqual(named(w, 'x-native'), ['kept']);
    }
    const warned = gw.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('plugin set headers the gateway owns'));
    assert.deepEqual(warned.map((l) => l.plugin).sort(), ['framing-native', 'framing-post', 'framing-short'], JSON.stringify(warned));
    const shortLine = warned.find((l) => l.plugin === 'framing-short')!;
    assert.deepEqual([...(shortLine.headers as string[])].sort(), Object.keys(FRAMING).sort());
  });

  test('a provider answer through a post-hook that sets CONTENT-LENGTH keeps only the gateway\'s length', async () => {
    const post = wasmFile('framing-post-only', constHooksWat({ http_post_hook: JSON.stringify({ response: { headers: { 'CONTENT-LENGTH': '99999' } } }) }));
    const g = await startTestGateway(mockConfig({ plugins: [{ name: 'framing-post-only', path: post }] }));
    try {
      const w = await wireRequest(g.port, {}, chatBody);
      assert.equal(w.status, 200, w.raw);
      assertOneFraming(w);
      assert.match(w.raw, /"object":"chat.completion"/);
    } finally {
      await g.close();
    }
  });
});

describe('prototype pollution', () => {
  test('a WASM "__proto__" context and a client "toString" header do not change what plugins read', async () => {
    const forge = JSON.stringify({ 'gatehouse.forged': 'yes', 'gatehouse.virtual_key': 'vk-forged', request_id: 'forged' });
    const polluter = wasmFile('polluter', constHooksWat({
      http_pre_hook: `{"context":{"__proto__":${forge},"x":1}}`,
      pre_hook: `{"context":{"__proto__":${forge},"constructor":{"prototype":{"polluted":1}}}}`,
    }));
    (globalThis as { __ghProbe?: unknown[] }).__ghProbe = [];
    const gw = await startTestGateway(mockConfig({
      plugins: [{ name: 'polluter', path: polluter, order: 0 }, { name: 'proto-probe', path: PROBE, order: 1 }],
    }));
    try {
      const w = await wireRequest(gw.port, { toString: 'client-value', 'x-request-id': 'rid-1' }, chatBody);
      assert.equal(w.status, 200, w.raw);
      assert.deepEqual(named(w, 'x-request-id'), ['rid-1']);
    } finally {
      await gw.close();
    }
    const seen = (globalThis as unknown as { __ghProbe: Array<Record<string, unknown>> }).__ghProbe;
    assert.deepEqual(seen.map((r) => r.hook), ['httpPre', 'pre', 'post', 'httpPost']);
    for (const r of seen) {
      assert.equal(r.valuesProto, 'null', `context prototype at ${r.hook}`);
      assert.deepEqual(r.inheritedReserved, [], `inherited reserved keys at ${r.hook}`);
      assert.equal(r.forgedVisible, false, `a forged gatehouse.* key is visible at ${r.hook}`);
      if (r.headersProto !== undefined) {
        assert.equal(r.headersProto, 'null');
        assert.equal(r.queryProto, 'null');
        assert.equal(r.pathParamsProto, 'null');
        assert.equal(r.toStringHeader, 'client-value', `the toString header at ${r.hook}`);
      }
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted');
  });
});
