import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import wabtInit from 'wabt';
import { postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * What a hostile upstream controls, bounded (issues 20.3, 20.4, 21.1, 21.2): one SSE event without
 * end, an error body or an answer far larger than the caps, a body dripped a byte at a time, and
 * a provider key quoted in every field of an error. Each case is the attack at test size with the
 * cap configured low; the upstream counts what it managed to write, so "the gateway stopped
 * reading" is measured, not assumed.
 */
const MiB = 1024 * 1024;
const user = [{ role: 'user', content: 'hi' }];

/** A raw upstream whose handler is swapped per test; `written` counts the body bytes it got out. */
class HostileUpstream {
  server!: Server;
  url = '';
  written = 0;
  handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, res) => res.end('{}');
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => this.handler(req, res));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  /** Writes `total` bytes made by `piece` (one 64 KiB block repeated), honouring backpressure; stops when the gateway hangs up. */
  pump(res: ServerResponse, block: Buffer, total: number, end = true): void {
    let sent = 0;
    const more = (): void => {
      while (sent < total) {
        if (res.destroyed) return;
        sent += block.length;
        this.written += block.length;
        if (!res.write(block)) { res.once('drain', more); return; }
      }
      if (end) res.end();
    };
    res.on('close', () => undefined);
    more();
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

const KEY = 'sk-proj-plantedKEY0123456789abcdefXYZ';

describe('bounded upstream answers', () => {
  const up = new HostileUpstream();
  let gw: TestGateway;
  before(async () => {
    await up.start();
    gw = await startTestGateway({
      providers: {
        openai: {
          keys: [{ value: KEY, models: [] }],
          network_config: {
            base_url: up.url, max_retries: 0, default_request_timeout_in_seconds: 2,
            max_stream_event_size_mb: 1, max_error_body_size_kb: 16, max_response_body_size_mb: 1, response_timeout_in_seconds: 2,
          },
        },
      },
    });
  });
  after(async () => {
    await gw.close(1000);
    await up.close();
  });

  async function normalStillServed(): Promise<void> {
    up.handler = (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'fine' }, finish_reason: 'stop' }] }));
    };
    const ok = await postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/m', messages: user });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.choices[0].message.content, 'fine');
  }

  test('21.1: an SSE event that never ends is cut at max_stream_event_size_mb with an error event; the gateway keeps serving', async () => {
    up.written = 0;
    const line = Buffer.from(`data: ${'x'.repeat(64 * 1024 - 7)}\n`);
    up.handler = (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: 'a' } }] })}\n\n`);
      up.pump(res, line, 48 * MiB); // data: lines, no blank line: one event growing without end
    };
    const rss0 = process.memoryUsage().rss;
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/m', messages: user, stream: true });
    assert.equal(res.status, 200);
    const events = res.text.split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
    const last = JSON.parse(events.at(-1) as string);
    assert.equal(last.error.code, 'GH_ERR_UPSTREAM_BAD_RESPONSE', res.text.slice(0, 300));
    assert.match(last.error.message, /larger than the limit of 1 MB \(network_config\.max_stream_event_size_mb\)/);
    assert.ok(!events.includes('[DONE]'));
    assert.ok(up.written < 12 * MiB, `the gateway read ${(up.written / MiB).toFixed(1)} MiB of a 48 MiB event before cutting it`);
    assert.ok(process.memoryUsage().rss - rss0 < 64 * MiB, 'RSS grew by less than 64 MiB');
    await normalStillServed();
  });

  test('20.3: a 500 with a 32 MiB body: only max_error_body_size_kb is read, the message is its start', async () => {
    up.written = 0;
    const block = Buffer.alloc(64 * 1024, 'e');
    up.handler = (_q, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.write('upstream exploded: ');
      up.pump(res, block, 32 * MiB);
    };
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/m', messages: user });
    assert.equal(res.status, 500, res.text.slice(0, 300));
    assert.match(res.json.error.message, /^openai: upstream exploded: e+\.\.\. \(\d+ more characters\)$/);
    assert.ok(res.text.length < 4096, `answer of ${res.text.length} bytes`);
    assert.ok(up.written < 8 * MiB, `the gateway read ${(up.written / MiB).toFixed(1)} MiB of a 32 MiB error body`);
    await normalStillServed();
  });

  test('20.3: a 200 answer over max_response_body_size_mb is a 502 naming the setting', async () => {
    up.written = 0;
    up.handler = (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":"x","choices":[{"message":{"content":"');
      up.pump(res, Buffer.alloc(64 * 1024, 'a'), 16 * MiB);
    };
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/m', messages: user });
    assert.equal(res.status, 502, res.text.slice(0, 300));
    assert.match(res.json.error.message, /max_response_body_size_mb/);
    assert.ok(up.written < 8 * MiB, `the gateway read ${(up.written / MiB).toFixed(1)} MiB`);
    await normalStillServed();
  });

  test('20.4: a body dripped one byte at a time is cut at response_timeout_in_seconds (504)', async () => {
    let timer: NodeJS.Timeout | undefined;
    up.handler = (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // 10 bytes a second, for far longer than the test runs: never idle, never done.
      timer = setInterval(() => { if (!res.destroyed) res.write(' '); }, 100);
      res.on('close', () => clearInterval(timer));
    };
    const started = Date.now();
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/m', messages: user });
    const took = Date.now() - started;
    clearInterval(timer);
    assert.equal(res.status, 504, res.text);
    assert.equal(res.json.error.code, 'GH_ERR_UPSTREAM_TIMEOUT');
    assert.match(res.json.error.message, /response_timeout_in_seconds/);
    assert.ok(took >= 1900 && took < 4000, `answered after ${took} ms`);
    await normalStillServed();
  });
});

// ---- 21.2: a provider key in any field of an upstream error -------------------------------------

const wabt = await wabtInit();
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-redact-'));
/** A WASM post_hook that prints the input it received to stdout (one log line per call), no change. */
const PRINTER = join(dir, 'printer.wasm');
{
  const m = wabt.parseWat('p.wat', `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $bump (mut i32) (i32.const 4096))
  (func (export "malloc") (param $n i32) (result i32) (local $p i32)
    (local.set $p (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $n)))
    (if (i32.gt_u (global.get $bump) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.add (i32.shr_u (local.get $n) (i32.const 16)) (i32.const 1))))))
    (local.get $p))
  (func (export "free") (param i32))
  (func (export "init") (param i32 i32) (result i32) (i32.const 0))
  (func (export "post_hook") (param $p i32) (param $n i32) (result i64)
    (i32.store (i32.const 16) (local.get $p))
    (i32.store (i32.const 20) (local.get $n))
    (i32.store8 (i32.const 32) (i32.const 10))
    (i32.store (i32.const 24) (i32.const 32))
    (i32.store (i32.const 28) (i32.const 1))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 2) (i32.const 40)))
    (global.set $bump (i32.const 4096))
    (i64.const 0)))`, {});
  m.resolveNames();
  m.validate();
  writeFileSync(PRINTER, new Uint8Array(m.toBinary({}).buffer));
}

describe('21.2: provider keys are cut out of every field of an upstream error', () => {
  const up = new HostileUpstream();
  let gw: TestGateway;
  before(async () => {
    await up.start();
    gw = await startTestGateway({
      providers: { openai: { keys: [{ value: KEY, models: [] }], network_config: { base_url: up.url, max_retries: 0 } } },
      plugins: [{ name: 'printer', path: PRINTER, on_error: 'fail_closed' }],
    }, { baseDir: dir });
  });
  after(async () => {
    await gw.close(1000);
    await up.close();
  });

  const partsOf = (s: string): string[] => [KEY, KEY.slice(0, 12), KEY.slice(-12), KEY.slice(8, 20)];
  const leaks = (text: string): string[] => partsOf(KEY).filter((p) => text.includes(p));
  const hookInputs = (): string => JSON.stringify(gw.logs.filter((l) => l.plugin === 'printer'));

  const cases: Array<[string, number, string, Record<string, string>]> = [
    ['message', 401, JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}.`, type: 'invalid_request_error', code: 'invalid_api_key', param: null } }), { 'content-type': 'application/json' }],
    ['type', 400, JSON.stringify({ error: { message: 'bad', type: `type_${KEY}`, code: null, param: null } }), { 'content-type': 'application/json' }],
    ['code', 400, JSON.stringify({ error: { message: 'bad', type: 'x', code: KEY, param: null } }), { 'content-type': 'application/json' }],
    ['numeric-looking code object', 400, JSON.stringify({ error: { message: 'bad', type: 'x', code: { key: KEY }, param: null } }), { 'content-type': 'application/json' }],
    ['param', 400, JSON.stringify({ error: { message: 'bad', type: 'x', code: 'c', param: `headers.authorization=Bearer ${KEY}` } }), { 'content-type': 'application/json' }],
    ['nested', 400, JSON.stringify({ error: { message: 'bad', type: 'x', code: 'c', param: null, details: { key: KEY, inner: [{ key: KEY }] } } }), { 'content-type': 'application/json' }],
    ['top-level message', 400, JSON.stringify({ message: `no such key ${KEY}`, detail: KEY }), { 'content-type': 'application/json' }],
    // The key straddles character 500, where the plain-text message used to be cut before redaction.
    ['plain text across the old 500-character cut', 401, `${'p'.repeat(480)} key ${KEY} rejected ${'q'.repeat(2000)}`, { 'content-type': 'text/plain' }],
    ['plain text cut by max_error_body_size_kb inside the key', 401, `${'r'.repeat(64 * 1024 - 10)}${KEY}`, { 'content-type': 'text/plain' }],
  ];

  for (const [what, status, body, headers] of cases) {
    test(`key in ${what}: not in the client's answer, not in the post_hook input, not in the log`, async () => {
      gw.logs.length = 0;
      up.handler = (_q, res) => { res.writeHead(status, headers); res.end(body); };
      for (const stream of [false, true]) {
        const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/m', messages: user, stream });
        assert.equal(res.status, status, res.text.slice(0, 200));
        assert.deepEqual(leaks(res.text), [], `the answer leaks the key: ${res.text.slice(0, 600)}`);
        assert.ok(res.json.error.message.length < 1200, 'the message is shortened after redaction');
      }
      const inputs = hookInputs();
      assert.ok(inputs.includes('status_code'), `the post_hook saw the error: ${inputs.slice(0, 300)}`);
      assert.deepEqual(leaks(inputs), [], `the post_hook input leaks the key: ${inputs.slice(0, 600)}`);
      assert.deepEqual(leaks(JSON.stringify(gw.logs)), [], 'the log leaks the key');
    });
  }

  test('key in an error event inside a 200 stream (code and message)', async () => {
    gw.logs.length = 0;
    up.handler = (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'a' } }] })}\n\n`);
      res.end(`data: ${JSON.stringify({ error: { message: `key ${KEY} revoked`, type: KEY, code: KEY } })}\n\n`);
    };
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'openai/m', messages: user, stream: true });
    assert.equal(res.status, 200);
    assert.match(res.text, /\[redacted\]/);
    assert.deepEqual(leaks(res.text), [], res.text);
    assert.deepEqual(leaks(hookInputs()), []);
    assert.deepEqual(leaks(JSON.stringify(gw.logs)), []);
  });
});
