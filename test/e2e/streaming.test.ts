import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startOpenAIUpstream, type MockUpstream } from '../mocks/openai-upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** An upstream that streams as fast as its socket lets it, and counts how many events it got out. */
function floodUpstream(total: number): Promise<{ server: Server; url: string; written: () => number; finished: () => boolean }> {
  let written = 0;
  let finished = false;
  const payload = 'x'.repeat(1000);
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const pump = (): void => {
      while (written < total) {
        const ev = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: payload }, finish_reason: null }] };
        written++;
        if (!res.write(`data: ${JSON.stringify(ev)}\n\n`)) return void res.once('drain', pump);
      }
      res.end('data: [DONE]\n\n');
      finished = true;
    };
    pump();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const port = (server.address() as { port: number }).port;
    resolve({ server, url: `http://127.0.0.1:${port}`, written: () => written, finished: () => finished });
  }));
}

describe('streaming behaviour', () => {
  let mock: MockUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  before(async () => {
    mock = await startOpenAIUpstream();
    gw = await startTestGateway({
      providers: { openai: { keys: [{ value: 'k' }], network_config: { base_url: mock.url, stream_idle_timeout_in_seconds: 1, default_request_timeout_in_seconds: 5 } } },
    });
    client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'x', maxRetries: 0 });
  });
  after(async () => {
    await gw.close(500);
    await mock.close();
  });

  test('a stream that stalls past the idle timeout ends with an error event', async () => {
    mock.reset();
    mock.enqueue({ stallStream: true });
    const started = Date.now();
    const stream = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'a b c d e f' }] });
    let text = '';
    await assert.rejects(async () => { for await (const c of stream) text += c.choices[0]?.delta.content ?? ''; }, /idle/);
    assert.ok(text.length > 0, 'events before the stall were delivered');
    assert.ok(Date.now() - started < 4000);
  });

  test('a slow client applies backpressure all the way to the upstream', async () => {
    const flood = await floodUpstream(20_000);
    const g = await startTestGateway({ providers: { openai: { keys: [{ value: 'k' }], network_config: { base_url: flood.url } } } });
    try {
      const { port } = new URL(g.url);
      const received = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' } }, (res) => {
          assert.equal(res.statusCode, 200);
          res.pause();
          // While the client reads nothing, the upstream must be held back by full buffers.
          setTimeout(() => {
            try {
              assert.ok(flood.written() < 20_000, `upstream wrote ${flood.written()} of 20000 events while the client was paused`);
              assert.equal(flood.finished(), false);
            } catch (err) {
              reject(err);
              req.destroy();
              return;
            }
            let bytes = 0;
            res.on('data', (d: Buffer) => (bytes += d.length));
            res.on('end', () => resolve(bytes));
            res.resume();
          }, 1000);
        });
        req.on('error', reject);
        req.end(JSON.stringify({ model: 'openai/m', stream: true, messages: [{ role: 'user', content: 'flood' }] }));
      });
      assert.ok(received > 20_000 * 1000, 'every event arrived once the client read again');
      assert.equal(flood.finished(), true);
    } finally {
      await g.close(500);
      flood.server.close();
    }
  });
});
