// A fast mock OpenAI upstream for the benchmark: node:http, no framework, precomputed bodies.
//   POST /v1/chat/completions            -> a fixed ~600-byte chat.completion (content-length)
//   ... with "stream": true in the body  -> text/event-stream, 20 chat.completion.chunk events + [DONE],
//                                           one HTTP chunk per event, all written in one tick
//   GET /v1/models, GET /health          -> small JSON
// Usage: node bench/upstream.mjs [--port N]   (prints "listening <port>" when ready)
import http from 'node:http';

const created = 1731000000;
const model = 'gpt-4o-mini-2024-07-18';

const CHAT = Buffer.from(JSON.stringify({
  id: 'chatcmpl-bench0000000000000000000000',
  object: 'chat.completion',
  created,
  model,
  choices: [{
    index: 0,
    message: {
      role: 'assistant',
      content: 'Gatehouse benchmark reply: a fixed answer of moderate length, so the body is close to a short real completion.',
      refusal: null,
      annotations: [],
    },
    logprobs: null,
    finish_reason: 'stop',
  }],
  usage: {
    prompt_tokens: 24, completion_tokens: 42, total_tokens: 66,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  },
  service_tier: 'default',
  system_fingerprint: 'fp_bench00',
}));

const WORDS = 'The quick brown fox jumps over the lazy dog while the gateway forwards every single streamed chunk quickly'.split(' ');
const SSE_EVENTS = [];
for (let i = 0; i < 20; i++) {
  const delta = i === 0 ? { role: 'assistant', content: '' } : { content: `${WORDS[(i - 1) % WORDS.length]} ` };
  const chunk = {
    id: 'chatcmpl-bench0000000000000000000000', object: 'chat.completion.chunk', created, model,
    system_fingerprint: 'fp_bench00',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: i === 19 ? 'stop' : null }],
  };
  SSE_EVENTS.push(Buffer.from(`data: ${JSON.stringify(chunk)}\n\n`));
}
SSE_EVENTS.push(Buffer.from('data: [DONE]\n\n'));
export const SSE_BYTES = SSE_EVENTS.reduce((n, b) => n + b.length, 0);
export const CHAT_BYTES = CHAT.length;

const MODELS = Buffer.from(JSON.stringify({ object: 'list', data: [{ id: model, object: 'model', created, owned_by: 'bench' }] }));
const STREAM_MARK = /"stream"\s*:\s*true/;

function handler(req, res) {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': MODELS.length });
    res.end(MODELS);
    return;
  }
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => {
    const body = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    if (STREAM_MARK.test(body.latin1Slice(0, body.length))) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const ev of SSE_EVENTS) res.write(ev);
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': CHAT.length });
      res.end(CHAT);
    }
  });
}

export function startUpstream(port = 0, host = '127.0.0.1') {
  const server = http.createServer({ keepAliveTimeout: 600_000 }, handler);
  server.keepAliveTimeout = 600_000; // frozen targets (run.mjs) keep their idle connections
  server.headersTimeout = 601_000;
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--port');
  const port = i > 0 ? Number(process.argv[i + 1]) : Number(process.env.PORT ?? 9001);
  const server = await startUpstream(port);
  console.log(`listening ${server.address().port} chat=${CHAT.length}B sse=${SSE_BYTES}B`);
}
