import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mockConfig, postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { rawExchange, sleep, type RawResponse } from '../helpers/raw-http.js';

/** Every refusal is a JSON error of OpenAI's shape with the expected status and code. */
function assertJsonError(res: RawResponse | { status: number; json: any }, status: number, code: string, message?: RegExp): void {
  assert.equal(res.status, status, `status (body: ${JSON.stringify(res.json)})`);
  assert.ok(res.json && typeof res.json.error === 'object', 'a JSON error body');
  const e = res.json.error;
  assert.equal(e.code, code);
  assert.equal(typeof e.message, 'string');
  assert.equal(typeof e.type, 'string');
  assert.ok('param' in e);
  if (message) assert.match(e.message, message);
}

const chat = (extra: Record<string, unknown> = {}) => ({ model: 'mock/m', messages: [{ role: 'user', content: 'hi' }], ...extra });

/** A value nested `depth` levels deep, the body object itself counting as level 1. */
function nested(depth: number): string {
  // {"model":..,"messages":[{...}],"x": <depth-1 levels>} : `[[...]]` of depth-1 arrays.
  const inner = '['.repeat(depth - 1) + ']'.repeat(depth - 1);
  return `{"model":"mock/m","messages":[{"role":"user","content":"hi"}],"metadata":${inner}}`;
}

describe('client limits with clear errors', () => {
  let gw: TestGateway;
  let port: number;
  before(async () => {
    gw = await startTestGateway(mockConfig({
      client: {
        max_request_body_size_mb: 1,
        request_body_timeout_seconds: 1,
        request_headers_timeout_seconds: 1,
        max_messages: 8,
      },
    }));
    port = Number(new URL(gw.url).port);
  });
  after(() => gw.close(1000));

  test('body size: a declared content-length over the limit gets 413 at once, before any body byte', async () => {
    const res = await rawExchange(port, (s) => {
      s.write('POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 50000000\r\n\r\n');
    });
    assertJsonError(res, 413, 'GH_ERR_BODY_TOO_LARGE', /1 MB \(client\.max_request_body_size_mb\)/);
    assert.equal(res.closed, true, 'the connection is closed: the rest of the body is not wanted');
    assert.ok(res.ms < 1000, `answered in ${res.ms} ms, without waiting for the body`);
  });

  test('body size: a chunked body that keeps coming is cut off at the limit (nothing buffered without bound)', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const heapBefore = process.memoryUsage().heapUsed;
    const res = await rawExchange(port, async (s, st) => {
      s.write('POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n');
      // Up to 200 MB, unless the gateway answers first.
      for (let i = 0; i < 3200 && !st.done; i++) {
        if (!s.write(`${chunk.length.toString(16)}\r\n`) || !s.write(chunk) || !s.write('\r\n')) {
          await new Promise((r) => { s.once('drain', r); s.once('close', r); });
        }
      }
    }, { timeoutMs: 10_000 });
    assertJsonError(res, 413, 'GH_ERR_BODY_TOO_LARGE');
    assert.equal(res.closed, true);
    assert.ok(res.sent < 64 * 1024 * 1024, `the client got the answer after sending ${res.sent} bytes, long before 200 MB`);
    const grew = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(grew < 32 * 1024 * 1024, `heap grew by ${grew} bytes`);
  });

  test('header size: headers over node\'s 16 KB default get a JSON 431 and the connection closes', async () => {
    const res = await rawExchange(port, (s) => {
      s.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20 * 1024)}\r\ncontent-length: 2\r\n\r\n{}`);
    });
    assertJsonError(res, 431, 'GH_ERR_HEADERS_TOO_LARGE', /16 KB \(client\.max_header_size_kb\)/);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.closed, true);
  });

  test('header size through fetch: the client sees the 431, not a socket error', async () => {
    const res = await fetch(`${gw.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-big': 'b'.repeat(40 * 1024) }, body: JSON.stringify(chat()) });
    assert.equal(res.status, 431);
    assertJsonError({ status: res.status, json: await res.json() }, 431, 'GH_ERR_HEADERS_TOO_LARGE');
  });

  test('a malformed request line gets a JSON 400', async () => {
    const res = await rawExchange(port, (s) => { s.write('THIS IS NOT HTTP\r\n\r\n'); });
    assertJsonError(res, 400, 'GH_ERR_INVALID_REQUEST', /malformed HTTP request/);
    assert.equal(res.closed, true);
  });

  test('slow client, body: a body that trickles in past request_body_timeout_seconds (1 s) gets 408 and the connection closes', async () => {
    const head = 'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n';
    const res = await rawExchange(port, async (s, st) => {
      s.write(head);
      for (let i = 0; i < 100 && !st.done; i++) {
        s.write('{');
        await sleep(300);
      }
    }, { timeoutMs: 6000 });
    assertJsonError(res, 408, 'GH_ERR_REQUEST_TIMEOUT', /within 1 s/);
    assert.equal(res.closed, true, 'closed');
    assert.ok(res.ms >= 900 && res.ms < 2500, `cut off after ${res.ms} ms`);
    const bodyBytes = res.sent - head.length;
    assert.ok(bodyBytes >= 3 && bodyBytes < 8, `${bodyBytes} of 100 body bytes had trickled in before the cut`);
  });

  test('slow client, headers: headers that trickle in past request_headers_timeout_seconds (1 s) get 408', async () => {
    const res = await rawExchange(port, async (s, st) => {
      s.write('POST /v1/chat/completions HTTP/1.1\r\n');
      for (let i = 0; i < 100 && !st.done; i++) {
        s.write(i % 2 ? 'y\r\n' : 'x-slow-header-' + i + ': ');
        await sleep(300);
      }
    }, { timeoutMs: 6000 });
    assertJsonError(res, 408, 'GH_ERR_REQUEST_TIMEOUT', /request headers not received within 1 s/);
    assert.equal(res.closed, true);
    // headersTimeout (1 s) + node's connection check interval (250 ms) + the next byte.
    assert.ok(res.ms >= 900 && res.ms < 3000, `cut off after ${res.ms} ms`);
  });

  test('slow client, nothing at all: a connection that never sends a byte gets 408 after the headers timeout', async () => {
    const res = await rawExchange(port, () => undefined, { timeoutMs: 6000 });
    assertJsonError(res, 408, 'GH_ERR_REQUEST_TIMEOUT');
    assert.equal(res.closed, true);
    assert.ok(res.ms >= 900 && res.ms < 3000, `cut off after ${res.ms} ms`);
  });

  test('oversized chunk extensions get 413, as node itself would answer', async () => {
    const res = await rawExchange(port, (s) => {
      s.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n2;${'e'.repeat(20_000)}\r\n{}\r\n0\r\n\r\n`);
    });
    assertJsonError(res, 413, 'GH_ERR_BODY_TOO_LARGE', /chunk extensions/);
    assert.equal(res.closed, true);
  });

  test('an idle keep-alive connection between requests is not cut by the headers timeout', async () => {
    const res = await rawExchange(port, async (s) => {
      const body = JSON.stringify(chat());
      const req = `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      s.write(req);
      await sleep(1600);
      s.write(req);
    }, { timeoutMs: 2300, settleMs: 2000 });
    const answers = res.text.match(/"Echo: hi"/g) ?? [];
    assert.equal(res.status, 200);
    assert.equal(answers.length, 2, `both requests answered on one connection: ${res.text.slice(0, 300)}`);
  });

  test('JSON depth: 64 levels pass, 65 get 400 naming client.max_json_depth, 100 000 do not crash anything', async () => {
    const ok = await postJson(`${gw.baseURL}/chat/completions`, nested(64));
    assert.equal(ok.status, 200, ok.text);
    const deep = await postJson(`${gw.baseURL}/chat/completions`, nested(65));
    assertJsonError(deep, 400, 'GH_ERR_INVALID_REQUEST', /deeper than 64 levels \(client\.max_json_depth\)/);
    const huge = await postJson(`${gw.baseURL}/chat/completions`, nested(100_000));
    assertJsonError(huge, 400, 'GH_ERR_INVALID_REQUEST', /max_json_depth/);
    const objects = await postJson(`${gw.baseURL}/embeddings`, `{"model":"mock/e","input":"x","user":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`);
    assertJsonError(objects, 400, 'GH_ERR_INVALID_REQUEST', /max_json_depth/);
  });

  test('number of messages: up to client.max_messages pass, one more gets 400 with param "messages"', async () => {
    const msgs = (n: number) => Array.from({ length: n }, (_, i) => ({ role: 'user', content: `m${i}` }));
    const ok = await postJson(`${gw.baseURL}/chat/completions`, { model: 'mock/m', messages: msgs(8) });
    assert.equal(ok.status, 200);
    const over = await postJson(`${gw.baseURL}/chat/completions`, { model: 'mock/m', messages: msgs(9) });
    assertJsonError(over, 400, 'GH_ERR_INVALID_REQUEST', /9 messages; the limit is 8 \(client\.max_messages\)/);
    assert.equal(over.json.error.param, 'messages');
    // The same limit holds for the items of an embeddings input or a completions prompt.
    const items = (n: number) => Array.from({ length: n }, (_, i) => `item ${i}`);
    assert.equal((await postJson(`${gw.baseURL}/embeddings`, { model: 'mock/e', input: items(8) })).status, 200);
    const inputs = await postJson(`${gw.baseURL}/embeddings`, { model: 'mock/e', input: items(9) });
    assertJsonError(inputs, 400, 'GH_ERR_INVALID_REQUEST', /'input' has 9 items; the limit is 8 \(client\.max_messages\)/);
    assert.equal(inputs.json.error.param, 'input');
    const prompts = await postJson(`${gw.baseURL}/completions`, { model: 'mock/m', prompt: items(9) });
    assertJsonError(prompts, 400, 'GH_ERR_INVALID_REQUEST', /'prompt' has 9 items/);
  });

  test('after all of that the gateway still answers normally', async () => {
    const res = await postJson(`${gw.baseURL}/chat/completions`, chat());
    assert.equal(res.status, 200);
    assert.equal(res.json.choices[0].message.content, 'Echo: hi');
  });
});

describe('client limits: defaults and overrides', () => {
  test('defaults: 2048 messages pass and 2049 do not; larger headers pass when max_header_size_kb allows', async () => {
    const gw = await startTestGateway(mockConfig({ client: { max_header_size_kb: 64 } }));
    try {
      const msgs = (n: number) => Array.from({ length: n }, () => ({ role: 'user', content: 'x' }));
      assert.equal((await postJson(`${gw.baseURL}/chat/completions`, { model: 'mock/m', messages: msgs(2048) })).status, 200);
      const over = await postJson(`${gw.baseURL}/chat/completions`, { model: 'mock/m', messages: msgs(2049) });
      assertJsonError(over, 400, 'GH_ERR_INVALID_REQUEST', /limit is 2048/);
      const big = await postJson(`${gw.baseURL}/chat/completions`, chat(), { 'x-big': 'c'.repeat(40 * 1024) });
      assert.equal(big.status, 200);
      const tooBig = await postJson(`${gw.baseURL}/chat/completions`, chat(), { 'x-big': 'c'.repeat(70 * 1024) });
      assertJsonError(tooBig, 431, 'GH_ERR_HEADERS_TOO_LARGE', /64 KB/);
    } finally {
      await gw.close(1000);
    }
  });

  test('max_json_depth is configurable', async () => {
    const gw = await startTestGateway(mockConfig({ client: { max_json_depth: 4 } }));
    try {
      // body(1) > messages(2) > message(3) > content parts(4) > part(5): too deep for 4.
      const parts = await postJson(`${gw.baseURL}/chat/completions`, { model: 'mock/m', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] });
      assertJsonError(parts, 400, 'GH_ERR_INVALID_REQUEST', /deeper than 4 levels/);
      assert.equal((await postJson(`${gw.baseURL}/chat/completions`, chat())).status, 200);
    } finally {
      await gw.close(1000);
    }
  });

  test('bad limits refuse to start with the JSON path', async () => {
    await assert.rejects(startTestGateway(mockConfig({ client: { max_json_depth: 0 } })), /client\.max_json_depth/);
    await assert.rejects(startTestGateway(mockConfig({ client: { max_messages: 'many' } })), /client\.max_messages/);
  });
});
