import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import wabtInit from 'wabt';
import { mockConfig, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Fuzzing the WASM boundary, end to end over HTTP. The fixture plugin
 * (test/fixtures/wasm-fuzz/table-plugin.wat) answers every hook with whatever the test put in its
 * config: the generated output bytes, or a raw (ptr, len) pair, or a pair relative to the end of
 * its linear memory. The test picks the case per request with a marker (`@@<n>;`) that the plugin
 * finds in its input. Outputs generated with fast-check: random bytes, truncated JSON, JSON that
 * is not an object, a wrong type for every field of every hook's output, pointers and lengths at
 * and past the end of memory, valid outputs placed to end exactly at the memory end, and (in a
 * fixed list) huge and deeply nested context objects.
 *
 * For every case, through the real gateway: the request gets its plugin's `on_error` answer
 * (fail_closed: a 500 naming the plugin and the hook, or for a stream an error event naming them,
 * or for a transport post-hook the unchanged answer and a logged failure; fail_open: the normal
 * answer and a logged failure), the next request is served, no exception reaches the process
 * (`uncaughtException` / `unhandledRejection`), and memory stays bounded.
 *
 * The host marks a plugin unhealthy after 5 failures in 10 s; to see each case's own answer
 * rather than "unhealthy", a gateway carries 6 plugin entries (3 fail_closed, 3 fail_open) and
 * each entry gets at most 4 cases. GATEHOUSE_FUZZ_SCALE multiplies the number of runs.
 */
const SCALE = Number(process.env.GATEHOUSE_FUZZ_SCALE ?? 1);
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));

type Hook = 'http_pre' | 'http_post' | 'chunk' | 'pre' | 'post';
const HOOKS: Hook[] = ['http_pre', 'http_post', 'chunk', 'pre', 'post'];
const MASK: Record<Hook, number> = { http_pre: 1, http_post: 2, chunk: 4, pre: 8, post: 16 };
const WASM_HOOK: Record<Hook, string> = { http_pre: 'http_pre_hook', http_post: 'http_post_hook', chunk: 'http_stream_chunk_hook', pre: 'pre_hook', post: 'post_hook' };
const GW_HOOK: Record<Hook, string> = { http_pre: 'httpTransportPreHook', http_post: 'httpTransportPostHook', chunk: 'httpTransportStreamChunkHook', pre: 'preLLMHook', post: 'postLLMHook' };

/** What the answer must be: a plugin failure, a valid output applied, or either (the oracle cannot tell). */
type Expect = 'fail' | 'ok' | 'any';
interface Case {
  kind: string;
  hook: Hook;
  /** 0: payload; 1: raw (a, b); 2: (memory end - a, b); 3: payload ending at the memory end. */
  mode: 0 | 1 | 2 | 3;
  a: number;
  b: number;
  payload: Uint8Array;
  expect: Expect;
  /** Chat streaming request (always for the chunk hook). */
  stream: boolean;
}

const PER_ENTRY = 4;
const ENTRIES: Array<{ name: string; on_error: 'fail_closed' | 'fail_open' }> = [
  { name: 'fz-closed-0', on_error: 'fail_closed' }, { name: 'fz-open-0', on_error: 'fail_open' },
  { name: 'fz-closed-1', on_error: 'fail_closed' }, { name: 'fz-open-1', on_error: 'fail_open' },
  { name: 'fz-closed-2', on_error: 'fail_closed' }, { name: 'fz-open-2', on_error: 'fail_open' },
];
const MAX_BATCH = PER_ENTRY * ENTRIES.length;

// ---- the fixture ------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'gh-wasm-fuzz-'));
const WASM = join(dir, 'table-plugin.wasm');
const wabt = await wabtInit();
{
  const src = readFileSync(new URL('../fixtures/wasm-fuzz/table-plugin.wat', import.meta.url), 'utf8');
  const m = wabt.parseWat('table-plugin.wat', src, { bulk_memory: true });
  m.resolveNames();
  m.validate();
  writeFileSync(WASM, new Uint8Array(m.toBinary({}).buffer));
}

function record(n: number, c: Case): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(n, 0);
  h.writeUInt32LE(MASK[c.hook], 4);
  h.writeUInt32LE(c.mode, 8);
  h.writeUInt32LE(c.a >>> 0, 12);
  h.writeUInt32LE(c.b >>> 0, 16);
  h.writeUInt32LE(c.payload.length, 20);
  return Buffer.concat([h, c.payload]);
}

// ---- generators -------------------------------------------------------------------------------

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** True when the bytes are UTF-8 JSON text of an object (the only shape a hook may answer). */
function isJsonObject(bytes: Uint8Array): boolean {
  try {
    const v = JSON.parse(utf8.decode(bytes));
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

const hookArb = fc.constantFrom(...HOOKS);
const streamFor = (hook: Hook): fc.Arbitrary<boolean> => (hook === 'chunk' ? fc.constant(true) : hook === 'post' ? fc.boolean() : fc.constant(false));
const smallJson = fc.jsonValue({ maxDepth: 2 });
const ctxArb = fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== 'request_id' && !k.startsWith('gatehouse.') && k !== '__proto__'), smallJson, { maxKeys: 4 });

/** Outputs each hook accepts without changing the answer's success (context, added headers, ...). */
function validOutput(hook: Hook): fc.Arbitrary<Record<string, unknown>> {
  const context = ctxArb.map((c) => ({ context: c }));
  switch (hook) {
    case 'http_pre': return fc.oneof(context, fc.record({ context: ctxArb, request: fc.record({ headers: fc.constant({ 'x-fuzz-added': 'yes' }) }) }));
    case 'http_post': return fc.oneof(context, fc.record({ context: ctxArb, response: fc.record({ headers: fc.constant({ 'x-fuzz-added': 'yes' }) }) }));
    case 'chunk': return fc.oneof(context, fc.record({ context: ctxArb, chunk: fc.constant({ id: 'fz', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'replaced ' }, finish_reason: null }] }) }));
    case 'pre': return fc.oneof(context, fc.record({ context: ctxArb, request: fc.constant({}) }));
    case 'post': return fc.oneof(context, fc.record({ context: ctxArb, has_error: fc.constant(false) }));
  }
}

const notString = fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }));
const notObject = fc.oneof(fc.string({ maxLength: 16 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.array(smallJson, { maxLength: 3 }));
const notBool = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.array(fc.integer(), { maxLength: 2 }), fc.constant({}));
const notNumber = fc.oneof(fc.string({ maxLength: 8 }), fc.boolean(), fc.array(fc.integer(), { maxLength: 2 }), fc.constant({}));
const notArray = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant({ a: 1 }));
const notHeaderValue = fc.oneof(fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }));
const notStatus = fc.oneof(notNumber, fc.integer({ min: -100000, max: 99 }), fc.integer({ min: 600, max: 10_000_000 }), fc.double({ min: 100, max: 599, noNaN: true }).filter((d) => !Number.isInteger(d)));
/** `chunk` may be an object or base64 of a JSON object: anything else is wrong. */
const notChunk = fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.integer(), { maxLength: 2 }), fc.constantFrom('%%% not base64', 'WzEsMl0=', 'bnVsbA==', ''));

/** Every field of every hook's output, with a value of a wrong type, nested where it lives. */
const WRONG_FIELDS: Record<Hook, Array<[string[], fc.Arbitrary<unknown>]>> = {
  http_pre: [
    [['context'], notObject], [['request'], notObject], [['request', 'method'], notString], [['request', 'path'], notString],
    [['request', 'headers'], notObject], [['request', 'headers', 'x-h'], notHeaderValue], [['request', 'query'], notObject],
    [['request', 'query', 'q'], notHeaderValue], [['request', 'body'], notString], [['response'], notObject],
    [['response', 'status_code'], notStatus], [['response', 'headers'], notObject], [['response', 'headers', 'x-h'], notHeaderValue],
    [['response', 'body'], notString], [['has_response'], notBool], [['error'], notString],
  ],
  http_post: [
    [['context'], notObject], [['response'], notObject], [['response', 'status_code'], notStatus], [['response', 'headers'], notObject],
    [['response', 'headers', 'x-h'], notHeaderValue], [['response', 'body'], notString], [['error'], notString],
  ],
  chunk: [[['context'], notObject], [['chunk'], notChunk], [['has_chunk'], notBool], [['skip'], notBool], [['error'], notString]],
  pre: [
    [['context'], notObject], [['request'], notObject], [['request', 'provider'], notString], [['request', 'model'], notString],
    [['request', 'params'], notObject], [['request', 'fallbacks'], notArray], [['short_circuit'], notObject],
    [['short_circuit', 'response'], notObject], [['short_circuit', 'error'], notObject], [['has_short_circuit'], notBool], [['error'], notString],
  ],
  post: [[['context'], notObject], [['response'], notObject], [['error'], notObject], [['has_error'], notBool], [['hook_error'], notString]],
};

function nest(path: string[], value: unknown): Record<string, unknown> {
  let v: unknown = value;
  for (let i = path.length - 1; i >= 0; i--) v = { [path[i] as string]: v };
  return v as Record<string, unknown>;
}

const mk = (kind: string, hook: Hook, payload: Uint8Array, expect: Expect, stream: boolean, mode: Case['mode'] = 0, a = 0, b = 0): Case =>
  ({ kind, hook, mode, a, b, payload, expect, stream });

const randomBytes = fc.tuple(hookArb, fc.uint8Array({ minLength: 1, maxLength: 512 })).chain(([hook, bytes]) =>
  streamFor(hook).map((s) => mk('random bytes', hook, bytes, isJsonObject(bytes) ? 'any' : 'fail', s)));

const truncated = hookArb.chain((hook) => fc.tuple(validOutput(hook), fc.nat(), streamFor(hook)).map(([out, cut, s]) => {
  const text = JSON.stringify(out);
  // A proper, non-empty prefix of an object's text is never valid JSON.
  return mk('truncated JSON', hook, enc(text.slice(0, 1 + (cut % (text.length - 1)))), 'fail', s);
}));

const notAnObject = fc.tuple(hookArb, fc.oneof(fc.array(smallJson, { maxLength: 4 }), fc.string({ maxLength: 32 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)))
  .chain(([hook, v]) => streamFor(hook).map((s) => mk('JSON that is not an object', hook, enc(JSON.stringify(v)), 'fail', s)));

const wrongField = hookArb.chain((hook) => fc.tuple(fc.constantFrom(...WRONG_FIELDS[hook]), streamFor(hook)).chain(([[path, bad], s]) =>
  bad.map((v) => mk(`wrong type for ${path.join('.')}`, hook, enc(JSON.stringify(nest(path, v))), 'fail', s))));

const valid = hookArb.chain((hook) => fc.tuple(validOutput(hook), streamFor(hook), fc.boolean()).map(([out, s, atEnd]) =>
  mk(atEnd ? 'valid output ending at the memory end' : 'valid output', hook, enc(JSON.stringify(out)), 'ok', s, atEnd ? 3 : 0)));

/** (memory end - a, b): b past a reads beyond the end; b == 0 is "no change". */
const nearEnd = fc.tuple(hookArb, fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 1 << 20 })).chain(([hook, back, len]) =>
  streamFor(hook).map((s) => mk(`(memory end - ${back}, ${len})`, hook, new Uint8Array(), len === 0 ? 'ok' : len > back ? 'fail' : 'any', s, 2, back, len)));

/** Raw pairs: anything ending past the 64 MiB memory cap is out of bounds for sure. */
const CAP = 64 << 20;
const rawPair = fc.tuple(hookArb, fc.oneof(fc.constantFrom(0, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff, CAP - 1, CAP), fc.nat({ max: 0xffffffff })), fc.oneof(fc.constantFrom(0, 1, 2, 0xffffffff, 0x80000000), fc.nat({ max: 0xffffffff })))
  .chain(([hook, ptr, len]) => streamFor(hook).map((s) => mk(`raw (${ptr}, ${len})`, hook, new Uint8Array(), len === 0 ? 'ok' : ptr + len > CAP ? 'fail' : 'any', s, 1, ptr, len)));

const caseArb: fc.Arbitrary<Case> = fc.oneof(randomBytes, truncated, notAnObject, wrongField, wrongField, valid, nearEnd, rawPair);

// ---- running cases ----------------------------------------------------------------------------

const escapes: unknown[] = [];
/** What the generator produced, per kind and expectation (printed as a diagnostic). */
const seen = new Map<string, number>();
const onEscape = (e: unknown): void => { escapes.push(e); };

interface Answer { status: number; body: string; requestId: string; stream: boolean }

async function send(gw: TestGateway, marker: string | null, c: { hook: Hook; stream: boolean } | null): Promise<Answer> {
  const stream = c?.stream ?? false;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  // Transport hooks find the marker in the request's headers; the others in the message (or its echo).
  // A stream's chunks carry the request too, so the header is left out there (one chunk per case).
  if (marker && c && (c.hook === 'http_pre' || c.hook === 'http_post')) headers['x-fuzz'] = marker;
  const body = { model: 'mock/fuzz', messages: [{ role: 'user', content: `hello ${marker ?? 'plain'}` }], stream };
  const res = await fetch(`${gw.baseURL}/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text(), requestId: res.headers.get('x-request-id') ?? '', stream };
}

function failuresLogged(gw: TestGateway, requestId: string): Array<Record<string, unknown>> {
  return gw.logs.filter((l) => l.msg === 'plugin failure' && l.request_id === requestId);
}

function describeCase(c: Case, entry: string): string {
  const p = Buffer.from(c.payload).toString('utf8');
  return `${c.kind} in ${WASM_HOOK[c.hook]} of ${entry} (mode ${c.mode}, a=${c.a}, b=${c.b}, stream=${c.stream}, expect ${c.expect}): ${JSON.stringify(p.length > 200 ? `${p.slice(0, 200)}...` : p)}`;
}

function checkAnswer(gw: TestGateway, c: Case, entry: (typeof ENTRIES)[number], a: Answer): void {
  const what = describeCase(c, entry.name);
  const logged = failuresLogged(gw, a.requestId);
  assert.ok(a.requestId, `no x-request-id: ${what}`);
  if (!a.stream || a.status !== 200) assert.doesNotThrow(() => JSON.parse(a.body), `answer is not JSON (${a.status}): ${a.body.slice(0, 200)} -- ${what}`);
  assert.doesNotMatch(a.body, /GH_ERR_INTERNAL|internal error/, `internal error: ${what}`);
  const normal = (): void => {
    assert.equal(a.status, 200, `status ${a.status}: ${a.body.slice(0, 300)} -- ${what}`);
    if (a.stream) assert.match(a.body, /data: \[DONE\]\s*$/, `stream did not finish: ${a.body.slice(-300)} -- ${what}`);
    else assert.equal(JSON.parse(a.body).object, 'chat.completion', what);
  };
  if (c.expect === 'ok') {
    normal();
    assert.deepEqual(logged, [], `a valid output was logged as a failure: ${what}`);
    return;
  }
  if (c.expect === 'any') {
    // Either outcome; whatever it is, it is well-formed (checked above) and a failure is a plugin failure.
    // Not necessarily this plugin's: see the 100k-deep context case below.
    if (a.status >= 500) assert.equal(JSON.parse(a.body).error?.code, 'GH_ERR_PLUGIN_FAILED', what);
    return;
  }
  // expect === 'fail'
  assert.ok(logged.some((l) => l.plugin === entry.name && l.hook === GW_HOOK[c.hook]), `no plugin failure logged for ${entry.name}/${GW_HOOK[c.hook]}: ${what}`);
  if (entry.on_error === 'fail_open' || c.hook === 'http_post') {
    // fail_open: skipped; a transport post-hook failure is logged and never changes the answer.
    normal();
    return;
  }
  const names = new RegExp(`plugin \\\\"${entry.name}\\\\" failed in ${GW_HOOK[c.hook]}: wasm plugin \\\\"${entry.name}\\\\" failed in ${WASM_HOOK[c.hook]}: `);
  if (a.stream && a.status === 200) {
    // After the first byte, a failure is an error event and the end, without [DONE].
    assert.match(a.body, /data: \{"error":\{/, `no error event: ${a.body.slice(-300)} -- ${what}`);
    assert.match(a.body, names, what);
    assert.doesNotMatch(a.body, /\[DONE\]/, what);
    return;
  }
  assert.equal(a.status, 500, `status ${a.status}: ${a.body.slice(0, 300)} -- ${what}`);
  const err = JSON.parse(a.body).error;
  assert.equal(err.code, 'GH_ERR_PLUGIN_FAILED', what);
  assert.match(a.body, names, what);
}

/** One gateway for a batch: case i goes to entry i % 6 (at most 4 each, under the unhealthy threshold). */
async function runBatch(cases: Case[]): Promise<void> {
  const tables: Buffer[][] = ENTRIES.map(() => []);
  cases.forEach((c, i) => tables[i % ENTRIES.length]!.push(record(i + 1, c)));
  const plugins: Array<Record<string, unknown>> = ENTRIES.map((e, k) => ({ ...e, path: WASM, config: { table: Buffer.concat(tables[k]!).toString('hex') } }));
  // Last in the pipeline: a native plugin that records the prototype of what the WASM plugins left.
  plugins.push({ name: 'proto-probe', path: PROBE, order: 1 });
  probes.length = 0;
  const gw = await startTestGateway(mockConfig({ plugins }));
  for (const c of cases) {
    const k = `${c.kind.replace(/\d+/g, 'N')} -> ${c.expect}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  try {
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      const entry = ENTRIES[i % ENTRIES.length]!;
      const a = await send(gw, `@@${i + 1};`, c);
      checkAnswer(gw, c, entry, a);
      // The next request (no marker: every hook answers "no change") is served normally.
      const next = await send(gw, null, null);
      assert.equal(next.status, 200, `request after ${describeCase(c, entry.name)}: ${next.status} ${next.body.slice(0, 300)}`);
      assert.equal(JSON.parse(next.body).choices[0].message.content, 'Echo: hello plain');
    }
  } finally {
    await gw.close();
  }
  assert.deepEqual(escapes, [], 'an exception escaped to the process');
  // Whatever the outputs were, every map a plugin saw kept its (null) prototype and no reserved key was inherited.
  assert.ok(probes.length > 0, 'the probe plugin ran');
  for (const r of probes) {
    assert.equal(r.valuesProto, 'null', `context prototype at ${String(r.hook)}`);
    assert.deepEqual(r.inheritedReserved, [], `inherited reserved keys at ${String(r.hook)}`);
    assert.equal(r.forgedVisible, false);
    if (r.headersProto !== undefined) assert.deepEqual([r.headersProto, r.queryProto, r.pathParamsProto], ['null', 'null', 'null'], `header/query prototypes at ${String(r.hook)}`);
  }
}
const PROBE = fileURLToPath(new URL('../fixtures/plugins/proto-probe.mjs', import.meta.url));
const probes: Array<Record<string, unknown>> = ((globalThis as unknown as { __ghProbe?: Array<Record<string, unknown>> }).__ghProbe ??= []);

function gcFn(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('WASM boundary fuzz (through the gateway)', () => {
  const gc = gcFn();
  let before0: NodeJS.MemoryUsage;

  before(async () => {
    process.on('uncaughtException', onEscape);
    process.on('unhandledRejection', onEscape);
    // Warm up (compile, metering, first gateway) before the memory baseline.
    await runBatch([mk('warm-up', 'pre', enc('{"context":{}}'), 'ok', false)]);
    gc();
    before0 = process.memoryUsage();
  });

  after(() => {
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
  });

  test('generated outputs: every request gets its on_error answer and the next one is served', async (t) => {
    await fc.assert(fc.asyncProperty(fc.array(caseArb, { minLength: 1, maxLength: MAX_BATCH }), runBatch), { numRuns: runs(40) });
    const total = [...seen.values()].reduce((x, y) => x + y, 0);
    t.diagnostic(`${total} cases: ${[...seen].sort((x, y) => y[1] - x[1]).map(([k, n]) => `${k}: ${n}`).join('; ')}`);
  });

  test('every field of every hook output, with each kind of wrong type', async () => {
    const cases: Case[] = [];
    for (const hook of HOOKS) {
      for (const [path, bad] of WRONG_FIELDS[hook]) {
        for (const v of fc.sample(bad, { numRuns: 3, seed: path.length * 31 + MASK[hook] })) {
          cases.push(mk(`wrong type for ${path.join('.')}`, hook, enc(JSON.stringify(nest(path, v))), 'fail', hook === 'chunk'));
        }
      }
    }
    for (let i = 0; i < cases.length; i += MAX_BATCH) await runBatch(cases.slice(i, i + MAX_BATCH));
  });

  test('fixed edge cases: memory end, huge and deep outputs, odd keys', async () => {
    const big = 'x'.repeat(2 << 20);
    const manyKeys = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i]));
    const deep = `{"context":{"d":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    const cases: Case[] = [
      mk('pointer exactly at the memory end, length 1', 'http_pre', new Uint8Array(), 'fail', false, 2, 0, 1),
      mk('one byte before the end, length 2', 'pre', new Uint8Array(), 'fail', false, 2, 1, 2),
      mk('pointer 0xffffffff', 'post', new Uint8Array(), 'fail', false, 1, 0xffffffff, 1),
      mk('length 0xffffffff', 'chunk', new Uint8Array(), 'fail', true, 1, 16, 0xffffffff),
      mk('pointer past the end, length 0 (no change)', 'http_pre', new Uint8Array(), 'ok', false, 1, 0xfffffff0, 0),
      mk('valid output ending exactly at the memory end', 'pre', enc('{"context":{"edge":true}}'), 'ok', false, 3),
      mk('2 MiB context string', 'http_pre', enc(JSON.stringify({ context: { big } })), 'ok', false),
      mk('50k context keys', 'pre', enc(JSON.stringify({ context: manyKeys })), 'ok', false),
      mk('2 MiB context, truncated', 'post', enc(JSON.stringify({ context: { big } }).slice(0, -3)), 'fail', false),
      // Refused by the plugin that produced it (shapes.ts caps output depth), not by whoever
      // would serialise the context next.
      mk('100k-deep array in the context', 'pre', enc(deep), 'fail', false),
      mk('__proto__ in the context', 'pre', enc('{"context":{"__proto__":{"polluted":1,"gatehouse.forged":"x"},"constructor":{"prototype":{"p":1}}}}'), 'ok', false),
      mk('__proto__ in the context (transport)', 'http_pre', enc('{"context":{"__proto__":{"gatehouse.forged":"x","request_id":"forged"}}}'), 'ok', false),
      mk('request_id overwritten in the context', 'http_pre', enc('{"context":{"request_id":"forged","gatehouse.x":1}}'), 'ok', false),
      mk('invalid UTF-8 in a string', 'post', Uint8Array.from([...enc('{"hook_error":"'), 0xff, 0xfe, ...enc('"}')]), 'fail', false),
      mk('UTF-8 BOM before the object', 'http_post', Uint8Array.from([0xef, 0xbb, 0xbf, ...enc('{}')]), 'any', false),
    ];
    await runBatch(cases);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted');
  });

  test('memory stays bounded', () => {
    gc();
    const now = process.memoryUsage();
    const heapMb = (now.heapUsed - before0.heapUsed) / 1048576;
    const rssMb = (now.rss - before0.rss) / 1048576;
    assert.ok(heapMb < 64, `heap grew by ${heapMb.toFixed(1)} MiB`);
    assert.ok(rssMb < 400, `RSS grew by ${rssMb.toFixed(1)} MiB`);
  });
});
