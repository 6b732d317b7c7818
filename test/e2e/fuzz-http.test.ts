import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { mockConfig, postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { postBytes } from '../helpers/raw-http.js';

/**
 * Property-based fuzzing of the HTTP API with fast-check: valid bodies for every POST route,
 * mutated at the JSON level (fields removed, wrong types, deep nesting, huge strings, duplicate
 * keys, out-of-range numbers) and at the byte level (truncation, invalid UTF-8, random bytes),
 * sent with assorted content types. The property: every answer is either a well-formed success
 * (the input happened to be valid) or a well-formed JSON error with a 4xx status; never a 5xx,
 * never a dropped connection; the gateway keeps answering and its memory stays bounded.
 *
 * GATEHOUSE_FUZZ_SCALE multiplies the number of runs (default 1, about 10 s in all);
 * a failure prints fast-check's seed and the shrunk counterexample.
 */
const SCALE = Number(process.env.GATEHOUSE_FUZZ_SCALE ?? 1);
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));
const BODY_LIMIT = 256 * 1024;

type Route = '/v1/chat/completions' | '/v1/completions' | '/v1/embeddings';
const ROUTES: Route[] = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'];

/** A valid body per route, rich enough that mutations reach the adapter's code paths. */
function baseBody(route: Route, stream: boolean): Record<string, unknown> {
  if (route === '/v1/chat/completions') {
    return {
      model: 'mock/mock-model',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'hello, please lookup' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'result' },
        { role: 'user', content: 'and now lookup again' },
      ],
      tools: [{ type: 'function', function: { name: 'lookup', description: 'd', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
      tool_choice: 'auto',
      stream,
      stream_options: { include_usage: true },
      temperature: 0.5,
      max_tokens: 16,
      n: 1,
      response_format: { type: 'text' },
      fallbacks: ['mock/other'],
      user: 'fuzz',
    };
  }
  if (route === '/v1/completions') return { model: 'mock/mock-model', prompt: ['say', 'this'], stream, max_tokens: 8, temperature: 1, echo: false };
  return { model: 'mock/embed', input: ['one', 'two', [1, 2, 3]], dimensions: 8, encoding_format: 'float', user: 'fuzz' };
}

/** Paths a mutation may hit, per route (a path that does not exist is created). */
const PATHS: Record<Route, string[]> = {
  '/v1/chat/completions': [
    'model', 'messages', 'messages.0', 'messages.1', 'messages.0.role', 'messages.1.content', 'messages.1.content.0',
    'messages.1.content.0.text', 'messages.1.content.0.type', 'messages.1.content.1.image_url', 'messages.1.content.1.image_url.url',
    'messages.2.tool_calls', 'messages.2.tool_calls.0', 'messages.2.tool_calls.0.function', 'messages.2.tool_calls.0.function.arguments',
    'messages.3.tool_call_id', 'messages.4.content', 'tools', 'tools.0', 'tools.0.function', 'tools.0.function.name',
    'tools.0.function.parameters', 'tool_choice', 'tool_choice.function', 'tool_choice.function.name', 'stream', 'stream_options',
    'stream_options.include_usage', 'temperature', 'max_tokens', 'n', 'response_format', 'fallbacks', 'fallbacks.0', 'user', 'metadata',
  ],
  '/v1/completions': ['model', 'prompt', 'prompt.0', 'prompt.1', 'stream', 'stream_options', 'max_tokens', 'temperature', 'echo', 'suffix', 'fallbacks'],
  '/v1/embeddings': ['model', 'input', 'input.0', 'input.2', 'input.2.0', 'dimensions', 'encoding_format', 'user', 'stream', 'fallbacks'],
};

/** Any JSON value, including the awkward ones: lone surrogates, -0, huge and tiny numbers. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.constantFrom(-0, 1e308, -1e308, 5e-324, 2 ** 53 + 1, -1, 0, 1e9),
  fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', 'NaN', 'Infinity', '-0', '1e400', 'mock/x', 'nope', 'openai/gpt-4o'),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  fc.jsonValue({ maxDepth: 4 }),
);

/** A value nested `depth` levels deep. */
const deepValue = fc.tuple(fc.integer({ min: 1, max: 400 }), fc.boolean()).map(([depth, objects]) => {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = objects ? { a: v } : [v];
  return v;
});

/** Strings from tiny to past the body limit. */
const hugeString = fc.tuple(fc.integer({ min: 1, max: 400 * 1024 }), fc.constantFrom('a', 'é', '😀', '\u0000', '"', '\\', '\ud800')).map(([n, c]) => c.repeat(Math.ceil(n / c.length)));

type JsonOp = { op: 'delete'; path: string } | { op: 'set'; path: string; value: unknown };

function jsonOp(route: Route): fc.Arbitrary<JsonOp> {
  const path = fc.constantFrom(...PATHS[route]);
  return fc.oneof(
    { weight: 2, arbitrary: path.map((p): JsonOp => ({ op: 'delete', path: p })) },
    { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), path, value: anyValue }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('set' as const), path, value: deepValue }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('set' as const), path, value: hugeString }) },
  );
}

function applyJsonOp(body: Record<string, unknown>, op: JsonOp): void {
  const keys = op.path.split('.');
  let node: any = body;
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i] as string;
    if (typeof node[k] !== 'object' || node[k] === null) {
      if (op.op === 'delete') return;
      node[k] = {};
    }
    node = node[k];
  }
  const last = keys[keys.length - 1] as string;
  if (op.op === 'delete') {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = op.value;
}

/** Byte-level damage to the serialized body. */
type ByteOp =
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: number[] }
  | { op: 'duplicate-key'; key: string; literal: string; first: boolean }
  | { op: 'number'; key: string; literal: string };

const BAD_UTF8 = [[0xff], [0xfe, 0xff], [0xc0, 0x80], [0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x98]];
const NUMBER_LITERALS = ['1e400', '-1e400', '-0', '1e-400', '9007199254740993', '"NaN"', '"Infinity"', 'NaN', 'Infinity', '-Infinity', '0x10', '01', '.5', '1.', '-', '+1', '1e', '123456789012345678901234567890'];

const byteOp: fc.Arbitrary<ByteOp> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.oneof(fc.constantFrom(...BAD_UTF8), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 })) }),
  fc.record({ op: fc.constant('duplicate-key' as const), key: fc.constantFrom('model', 'messages', 'prompt', 'input', 'stream', 'fallbacks', 'dimensions'), literal: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), first: fc.boolean() }),
  fc.record({ op: fc.constant('number' as const), key: fc.constantFrom('temperature', 'max_tokens', 'n', 'dimensions', 'stream', 'top_p', 'seed'), literal: fc.constantFrom(...NUMBER_LITERALS) }),
);

function applyByteOp(buf: Buffer, op: ByteOp): Buffer {
  const at = (f: number): number => Math.min(buf.length, Math.floor(f * buf.length));
  switch (op.op) {
    case 'truncate': return buf.subarray(0, at(op.at));
    case 'insert': { const i = at(op.at); return Buffer.concat([buf.subarray(0, i), Buffer.from(op.bytes), buf.subarray(i)]); }
    case 'duplicate-key': {
      // Right after the opening brace, or right before the closing one (JSON.parse keeps the last).
      const s = buf.toString('latin1');
      const open = s.indexOf('{');
      const close = s.lastIndexOf('}');
      if (open === -1 || close === -1) return buf;
      const pair = `"${op.key}":${op.literal}`;
      return Buffer.from(op.first ? `${s.slice(0, open + 1)}${pair},${s.slice(open + 1)}` : `${s.slice(0, close)},${pair}${s.slice(close)}`, 'latin1');
    }
    case 'number': {
      const s = buf.toString('latin1');
      const close = s.lastIndexOf('}');
      return close === -1 ? buf : Buffer.from(`${s.slice(0, close)},"${op.key}":${op.literal}${s.slice(close)}`, 'latin1');
    }
  }
}

const CONTENT_TYPES: Array<string | null> = [
  'application/json', 'application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'text/plain', null,
  'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', ';;;', 'application/json\u00e9',
];

/** Whole bodies that are not the route's object at all. */
const wholeBody: fc.Arbitrary<Buffer> = fc.oneof(
  fc.constantFrom('', ' ', 'null', '[]', '{}', '"str"', '123', 'true', '[{}]', '{"model":null}', '{"model":', '{{{{', '\u0000', '\ufeff{}', 'ＮａＮ')
    .map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 512 }).map((u) => Buffer.from(u)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc.array(fc.constantFrom(...ROUTES).map((r) => baseBody(r, false)), { maxLength: 3 }).map((a) => Buffer.from(JSON.stringify(a))),
);

interface Case { route: Route; body: Buffer; contentType: string | null; stream: boolean }

/** Counterexamples print as readable text, not as a byte array. */
function withText(c: Case): Case {
  return Object.assign(c, { [fc.toStringMethod]: () => `${c.route} [${c.contentType}] ${JSON.stringify(c.body.subarray(0, 600).toString('latin1'))}${c.body.length > 600 ? ` …(${c.body.length} bytes)` : ''}` });
}

const mutatedCase: fc.Arbitrary<Case> = fc.constantFrom(...ROUTES).chain((route) => fc.record({
  route: fc.constant(route),
  stream: fc.boolean(),
  jsonOps: fc.array(jsonOp(route), { maxLength: 3 }),
  byteOps: fc.array(byteOp, { maxLength: 2 }),
  contentType: fc.constantFrom(...CONTENT_TYPES),
})).map(({ route, stream, jsonOps, byteOps, contentType }) => {
  const obj = baseBody(route, stream);
  for (const op of jsonOps) applyJsonOp(obj, op);
  let body: Buffer = Buffer.from(JSON.stringify(obj));
  for (const op of byteOps) body = applyByteOp(body, op);
  return withText({ route, body, contentType, stream: obj.stream === true });
});

const randomCase: fc.Arbitrary<Case> = fc.record({
  route: fc.constantFrom(...ROUTES),
  body: wholeBody,
  contentType: fc.constantFrom(...CONTENT_TYPES),
  stream: fc.constant(false),
}).map(withText);

/** The property's core: the answer is a well-formed success or a well-formed 4xx JSON error. */
function checkAnswer(c: Case, res: { status: number; headers: Record<string, string | string[] | undefined>; text: string }): void {
  const ctx = (): string => `${c.route} ${c.contentType} body[${c.body.length}]=${JSON.stringify(c.body.subarray(0, 200).toString('latin1'))} → ${res.status} ${res.text.slice(0, 300)}`;
  if (res.status === 200) {
    const ct = String(res.headers['content-type']);
    if (ct.startsWith('text/event-stream')) {
      const events = res.text.split('\n\n').filter(Boolean);
      assert.ok(events.length >= 2, `a stream with events: ${ctx()}`);
      for (const ev of events) {
        assert.ok(ev.startsWith('data: '), `SSE framing: ${ctx()}`);
        const data = ev.slice(6);
        if (data !== '[DONE]') {
          const v = JSON.parse(data);
          assert.ok(v.error === undefined, `no error event in a valid stream: ${ctx()}`);
          assert.ok(v.object === 'chat.completion.chunk' || v.object === 'text_completion', `chunk object: ${ctx()}`);
        }
      }
      assert.equal(events.at(-1), 'data: [DONE]', `the stream ends with [DONE]: ${ctx()}`);
      return;
    }
    assert.ok(ct.startsWith('application/json'), `JSON content type: ${ctx()}`);
    const v = JSON.parse(res.text);
    const expected = { '/v1/chat/completions': 'chat.completion', '/v1/completions': 'text_completion', '/v1/embeddings': 'list' }[c.route];
    assert.equal(v.object, expected, `object: ${ctx()}`);
    assert.ok(Array.isArray(c.route === '/v1/embeddings' ? v.data : v.choices), `choices/data: ${ctx()}`);
    return;
  }
  assert.ok(res.status >= 400 && res.status < 500, `a 4xx status: ${ctx()}`);
  assert.ok(String(res.headers['content-type']).startsWith('application/json'), `JSON content type: ${ctx()}`);
  let v: any;
  assert.doesNotThrow(() => { v = JSON.parse(res.text); }, `a JSON body: ${ctx()}`);
  assert.ok(v && typeof v.error === 'object' && v.error !== null, `an error object: ${ctx()}`);
  assert.deepEqual(Object.keys(v.error).sort(), ['code', 'message', 'param', 'type'], `error keys: ${ctx()}`);
  assert.equal(typeof v.error.message, 'string');
  assert.ok(v.error.message.length > 0);
  assert.equal(typeof v.error.type, 'string');
  assert.equal(typeof v.error.code, 'string');
  assert.match(v.error.code, /^GH_ERR_/, `a gateway code: ${ctx()}`);
  assert.ok(v.error.param === null || typeof v.error.param === 'string', `param: ${ctx()}`);
}

function gcFn(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('HTTP API fuzzing (fast-check)', () => {
  let gw: TestGateway;
  let agent: Agent;
  const gc = gcFn();
  let memBefore: NodeJS.MemoryUsage;
  let counts: Record<string, number>;

  before(async () => {
    gw = await startTestGateway(mockConfig({ client: { max_request_body_size_mb: BODY_LIMIT / 1024 / 1024, request_body_timeout_seconds: 5 } }));
    agent = new Agent({ keepAlive: true, maxSockets: 8 });
    counts = {};
    // Warm up (module caches, JIT), then take the baseline.
    for (let i = 0; i < 50; i++) await postJson(`${gw.baseURL}/chat/completions`, baseBody('/v1/chat/completions', i % 2 === 0));
    gc();
    memBefore = process.memoryUsage();
  });
  after(async () => {
    agent.destroy();
    await gw.close(1000);
  });

  const send = async (c: Case): Promise<void> => {
    const res = await postBytes(`${gw.url}${c.route}`, c.body, c.contentType, agent);
    counts[res.status] = (counts[res.status] ?? 0) + 1;
    checkAnswer(c, res);
  };

  test('mutated valid bodies, every route: a well-formed answer, never a 5xx', async () => {
    await fc.assert(fc.asyncProperty(mutatedCase, send), { numRuns: runs(2500) });
  });

  test('arbitrary bodies (random bytes, wrong top-level types, empty): a well-formed 4xx', async () => {
    await fc.assert(fc.asyncProperty(randomCase, send), { numRuns: runs(600) });
  });

  test('random methods and paths: JSON 404/405, or 200 on the GET routes', async () => {
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD');
    const path = fc.oneof(
      fc.constantFrom('/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/models', '/health', '/', '/v1', '/v1/chat/completions/', '//v1/models', '/v1/chat/completions?x=%zz', '/v1/embeddings?stream=true&stream=false'),
      fc.webPath(),
    );
    await fc.assert(fc.asyncProperty(method, path, async (m, p) => {
      const res = await fetch(`${gw.url}${p.startsWith('/') ? p : `/${p}`}`, { method: m });
      const text = await res.text();
      if (m === 'HEAD') return void assert.ok([200, 404, 405].includes(res.status), `${m} ${p} → ${res.status}`);
      if (res.status === 200) return void JSON.parse(text);
      assert.ok([400, 404, 405].includes(res.status), `${m} ${p} → ${res.status} ${text}`);
      const v = JSON.parse(text);
      assert.equal(typeof v.error.message, 'string');
    }), { numRuns: runs(300) });
  });

  test('bodies cut short by the client (connection closed mid-body) leave nothing behind', async () => {
    const { port } = new URL(gw.url);
    await fc.assert(fc.asyncProperty(fc.constantFrom(...ROUTES), fc.integer({ min: 0, max: 2000 }), fc.boolean(), async (route, sendBytes, chunked) => {
      const body = Buffer.from(JSON.stringify(baseBody(route, false))).subarray(0, sendBytes);
      await new Promise<void>((resolve) => {
        const s = connect(Number(port), '127.0.0.1', () => {
          const head = chunked
            ? `POST ${route} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n`
            : `POST ${route} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length + 10}\r\n\r\n`;
          s.end(Buffer.concat([Buffer.from(head), body]));
          setImmediate(() => { s.destroy(); resolve(); });
        });
        s.on('error', () => resolve());
      });
    }), { numRuns: runs(200) });
    // Let the gateway notice the closed sockets.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(gw.gateway.inflight, 0, 'no request is left in flight');
  });

  test('afterwards: memory is bounded, nothing is in flight, and a normal request is answered', async () => {
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'mock/mock-model', messages: [{ role: 'user', content: 'still here' }] });
    assert.equal(res.status, 200);
    assert.equal(res.json.choices[0].message.content, 'Echo: still here');
    assert.equal(gw.gateway.inflight, 0);
    gc();
    const now = process.memoryUsage();
    const heap = now.heapUsed - memBefore.heapUsed;
    const rss = now.rss - memBefore.rss;
    // Node's test runner prints diagnostics; these are the figures for the README.
    console.log(`# fuzz: statuses ${JSON.stringify(counts)}; heapUsed ${(memBefore.heapUsed / 2 ** 20).toFixed(1)} → ${(now.heapUsed / 2 ** 20).toFixed(1)} MB; rss ${(memBefore.rss / 2 ** 20).toFixed(1)} → ${(now.rss / 2 ** 20).toFixed(1)} MB`);
    assert.ok(heap < 48 * 2 ** 20, `heapUsed grew by ${(heap / 2 ** 20).toFixed(1)} MB`);
    assert.ok(rss < 256 * 2 ** 20, `rss grew by ${(rss / 2 ** 20).toFixed(1)} MB`);
    assert.ok((counts[200] ?? 0) > 0 && Object.keys(counts).some((s) => s.startsWith('4')), 'both successes and errors were exercised');
  });
});
