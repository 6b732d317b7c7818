/**
 * A WASM plugin whose post_hook and chunk hook answer "no change" must cost no JSON work in the
 * gateway: the provider's own text goes to the guest and on to the client as it came (formatting
 * included), and stream events are never parsed. A native hook that changes the response in place
 * must still win, whichever side of the WASM plugin it runs on.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';

import { mockConfig, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { bumpMalloc } from '../helpers/wat.js';
import { wat } from '../unit/wasm/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'gh-wasm-pass-'));

// Spacing and number forms JSON.stringify would never produce: visible proof of the raw path.
const COMPLETION = '{ "id": "chatcmpl-raw", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",\n'
  + '  "choices": [ { "index": 0, "message": { "role": "assistant", "content": "raw answer" }, "logprobs": null, "finish_reason": "stop" } ],\n'
  + '  "usage": { "prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5, "cost": 1.50 } }';
const CHUNKS = ['hello', ' raw', ' stream'].map((w, i) =>
  `{ "id": "chatcmpl-raw", "object": "chat.completion.chunk", "created": 1700000000, "model": "gpt-4o-mini", "choices": [ { "index": 0, "delta": { "content": "${w}" }, "finish_reason": ${i === 2 ? '"stop"' : 'null'} } ]${i > 0 ? ', "zqxjmark": 1.0' : ''} }`);

/** post_hook and http_stream_chunk_hook both return 0: "no change". The hook counters are exported. */
const PASS = `(module
  (memory (export "memory") 1)
  ${bumpMalloc(1024)}
  (func (export "free") (param i32))
  (func (export "post_hook") (param i32 i32) (result i64) (global.set $bump (i32.const 1024)) (i64.const 0))
  (func (export "http_stream_chunk_hook") (param i32 i32) (result i64) (global.set $bump (i32.const 1024)) (i64.const 0)))`;

let upstream: Server;
let upstreamUrl = '';
before(async () => {
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      if (JSON.parse(body).stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(CHUNKS.map((c) => `data: ${c}\n\n`).join('') + 'data: [DONE]\n\n');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(COMPLETION);
      }
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
});

const gateways: TestGateway[] = [];
async function gateway(plugins: Record<string, unknown>[]): Promise<TestGateway> {
  const providers = { up: { custom_provider_config: { base_provider_type: 'openai' }, keys: [{ value: 'k' }], network_config: { base_url: upstreamUrl } } };
  const gw = await startTestGateway(mockConfig({ plugins, providers }));
  gateways.push(gw);
  return gw;
}
let seq = 0;
function file(src: string, ext: string): string {
  const f = join(dir, `p${++seq}${ext}`);
  writeFileSync(f, ext === '.wasm' ? wat(src) : src);
  return f;
}
async function ask(gw: TestGateway, stream: boolean): Promise<string> {
  const res = await fetch(`${gw.baseURL}/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'up/gpt-4o-mini', stream, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(res.status, 200);
  return res.text();
}

describe('wasm pass-through hooks cost no JSON work', () => {
  afterEach(async () => { while (gateways.length) await gateways.pop()!.close(500); });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await new Promise((r) => upstream.close(r));
  });

  test('non-streaming: the provider text reaches the client byte for byte through a WASM post_hook', async () => {
    const gw = await gateway([{ name: 'pass', path: file(PASS, '.wasm') }]);
    assert.equal(await ask(gw, false), COMPLETION);
  });

  test('streaming: events pass byte for byte through WASM post_hook + chunk hook, and are never parsed', async () => {
    const gw = await gateway([{ name: 'pass', path: file(PASS, '.wasm') }]);
    const realParse = JSON.parse;
    let parses = 0;
    JSON.parse = ((text: string, reviver?: never) => {
      // Marked events only: the first event is parsed once by the adapter, to validate it before
      // the response is committed.
      if (typeof text === 'string' && text.includes('zqxjmark')) parses++;
      return realParse(text, reviver);
    }) as typeof JSON.parse;
    let out: string;
    try {
      out = await ask(gw, true);
    } finally {
      JSON.parse = realParse;
    }
    assert.equal(out, CHUNKS.map((c) => `data: ${c}\n\n`).join('') + 'data: [DONE]\n\n');
    assert.equal(parses, 0, 'no stream event was parsed');
  });

  test('a native hook changing the response in place wins, before or after the WASM plugin', async () => {
    const native = file(`
      export function postLLMHook(ctx, resp) { const m = resp?.chat_response?.choices?.[0]?.message; if (m) m.content = 'changed'; }
      export function httpTransportStreamChunkHook(ctx, req, chunk) { if (chunk.choices?.[0]?.delta?.content) chunk.choices[0].delta.content += '!'; return chunk; }`, '.mjs');
    const pass = file(PASS, '.wasm');
    for (const order of [[native, pass], [pass, native]]) {
      const gw = await gateway(order.map((path, i) => ({ name: `p${i}`, path })));
      assert.equal(JSON.parse(await ask(gw, false)).choices[0].message.content, 'changed');
      const events = (await ask(gw, true)).split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)));
      assert.deepEqual(events.map((e) => e.choices[0].delta.content), ['hello!', ' raw!', ' stream!']);
    }
  });
});
