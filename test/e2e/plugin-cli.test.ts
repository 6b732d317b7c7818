// `gatehouse plugin ...` as a user runs it: a child process, against the committed fixture
// plugins and hostile modules compiled from WAT at test time; new + build + test for the
// AssemblyScript and TypeScript templates in a temp dir.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import wabtInit from 'wabt';
import { runCli } from '../helpers/cli.js';
import { hostile } from '../unit/wasm/hostile.wat.js';
import { bumpMalloc } from '../helpers/wat.js';

const root = new URL('../../', import.meta.url).pathname;
const fx = (p: string): string => join(root, 'test/fixtures/wasm', p);
const tmp = mkdtempSync(join(tmpdir(), 'gh-plugin-cli-'));
const plugin = (...args: string[]) => runCli(['plugin', ...args], { NO_COLOR: '1' });

const wabt = await wabtInit();
let n = 0;
function watFile(src: string): string {
  const m = wabt.parseWat('t.wat', src, { bulk_memory: true });
  m.resolveNames();
  m.validate();
  const file = join(tmp, `m${n++}.wasm`);
  writeFileSync(file, new Uint8Array(m.toBinary({}).buffer));
  return file;
}

/** A well-formed module whose pre_hook returns `out` (a constant at 2048) and runs `body` first. */
function constantPlugin(out: string, body = ''): string {
  return watFile(`(module
    (memory (export "memory") 1)
    ${bumpMalloc(4096)}
    (func (export "free") (param i32) (global.set $bump (i32.const 4096)))
    (data (i32.const 2048) ${JSON.stringify(out)})
    (func (export "pre_hook") (param i32 i32) (result i64)
      ${body}
      (i64.or (i64.shl (i64.const 2048) (i64.const 32)) (i64.const ${Buffer.byteLength(out)}))))`);
}

describe('gatehouse plugin', { concurrency: 4 }, () => {
  test('inspect: exports, imports and the ABI verdict of a good module; --json', async () => {
    const r = await plugin('inspect', fx('rust-hello/rust-hello.wasm'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hooks: +http_pre_hook, http_post_hook, pre_hook, post_hook/);
    assert.match(r.stdout, /allocator: malloc/);
    assert.match(r.stdout, /free: +free, two arguments \(ptr, len\)/);
    assert.match(r.stdout, /WASI: +no/);
    assert.match(r.stdout, /PASS this module loads in the gateway/);
    assert.doesNotMatch(r.stdout, /\x1b\[/, 'plain text when piped');

    const j = await plugin('inspect', fx('as-hello/as-hello.wasm'), '--json');
    assert.equal(j.code, 0);
    const rep = JSON.parse(j.stdout);
    assert.equal(rep.verdict.loads, true);
    assert.deepEqual(rep.verdict.hooks, ['http_pre_hook', 'http_post_hook', 'http_stream_chunk_hook', 'pre_hook', 'post_hook']);
    assert.equal(rep.verdict.free, 'free, one argument (ptr)');
    assert.deepEqual(rep.imports.map((i: { module: string; name: string }) => `${i.module}.${i.name}`), ['env.abort']);

    const wasi = await plugin('inspect', fx('c-wasi/c-wasi.wasm'));
    assert.match(wasi.stdout, /WASI: +yes/);
    assert.match(wasi.stdout, /start: _start/);
  });

  test('inspect: every problem that stops a module loading, in plain words, exit 1', async () => {
    const bad = watFile(`(module
      (import "env" "now" (func (result f64)))
      (memory (export "memory") 1)
      (func (export "free") (param i32 i32 i32))
      (func (export "pre_hook") (param i32) (result i32) (i32.const 0)))`);
    const r = await plugin('inspect', bad);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /FAIL this module would not load \(4 problems\)/);
    assert.match(r.stdout, /no allocator: export "malloc" or "plugin_malloc"/);
    assert.match(r.stdout, /import "env\.now" is not provided by the gateway/);
    assert.match(r.stdout, /export "pre_hook" has signature \(i32\) -> i32, expected \(i32, i32\) -> i64/);
    assert.match(r.stdout, /allocator: missing/);
    const j = JSON.parse((await plugin('inspect', bad, '--json')).stdout);
    assert.equal(j.verdict.loads, false);
    assert.equal(j.problems.length, 4);

    const notWasm = join(tmp, 'not.wasm');
    writeFileSync(notWasm, 'hello');
    const nw = await plugin('inspect', notWasm);
    assert.equal(nw.code, 1);
    assert.match(nw.stdout, /would not load/);
  });

  test('run: a sample input through the real host prints the output JSON, time and memory', async () => {
    const r = await plugin('run', fx('as-hello/as-hello.wasm'), '--hook', 'pre_hook', '--input', 'sample');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /"request_id": "sample-0001"/);
    assert.match(r.stdout, /PASS output has the hook's shape/);
    assert.match(r.stdout, /time: +[\d.]+ (µs|ms)/);
    assert.match(r.stdout, /memory: +[\d.]+ (KiB|MiB) \(\d+ pages\)/);

    const j = await plugin('run', fx('as-hello/as-hello.wasm'), '--hook', 'http_post_hook', '--json');
    const out = JSON.parse(j.stdout);
    assert.equal(out.ok, true);
    assert.equal(out.output.context.request_id, 'sample-0001');
    assert.ok(out.time_ms > 0 && out.memory_bytes_after >= 65536);
  });

  test('run: --input FILE and --config FILE reach the plugin', async () => {
    const input = join(tmp, 'req.json');
    writeFileSync(input, JSON.stringify({ context: { request_id: 'mine' }, request: { provider: 'openai', model: 'm1', input: [], params: {}, fallbacks: [] } }));
    const cfg = join(tmp, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ prefix: 'zz' }));
    const r = await plugin('run', fx('rust-hello/rust-hello.wasm'), '--hook', 'pre_hook', '--input', input, '--config', cfg, '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout).output;
    assert.equal(out.request.chat_request.model, 'zz-m1');
    assert.deepEqual(out.context, { request_id: 'mine', rust_pre: true });
  });

  test('run: a trapping hook, a missing hook and bad output are reported with exit 1', async () => {
    const trap = await plugin('run', watFile(hostile('unreachable')), '--hook', 'http_pre_hook');
    assert.equal(trap.code, 1);
    assert.match(trap.stdout, /FAIL the call failed: trap: unreachable/);
    const missing = await plugin('run', fx('rust-hello/rust-hello.wasm'), '--hook', 'http_stream_chunk_hook');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /does not export "http_stream_chunk_hook"/);
    const shape = await plugin('run', constantPlugin('{"context":[1]}'), '--hook', 'pre_hook');
    assert.equal(shape.code, 1);
    assert.match(shape.stdout, /FAIL output rejected: "context" must be an object, got an array/);
  });

  test('malloc returning address 0 is accepted; inspect and test warn that it overwrites static data', async () => {
    // The documents' bump allocator: the heap starts at 0, so the first block is address 0.
    const zero = watFile(`(module
      (memory (export "memory") 1)
      ${bumpMalloc(0)}
      (func (export "free") (param i32) (global.set $bump (i32.const 0)))
      (data (i32.const 2048) "{\\"context\\":{}}")
      (func (export "pre_hook") (param i32 i32) (result i64)
        (i64.or (i64.shl (i64.const 2048) (i64.const 32)) (i64.const 14))))`);
    const ins = await plugin('inspect', zero);
    assert.equal(ins.code, 0, ins.stdout + ins.stderr);
    assert.match(ins.stdout, /WARN malloc returned address 0: valid memory.*overwrites|WARN malloc returned address 0: valid memory, so the gateway accepts it, but an allocator that starts at 0 writes over the module's static data/);
    const t = await plugin('test', zero, '--calls', '100');
    assert.equal(t.code, 0, t.stdout + t.stderr);
    assert.match(t.stdout, /WARN the allocator hands out address 0/);
    assert.match(t.stdout, /PASS pre_hook: output parses/);
  });

  test('test: a good plugin passes every check (exit 0)', async () => {
    const r = await plugin('test', fx('rust-hello/rust-hello.wasm'), '--calls', '3000');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /PASS context values survive every hook of a request/);
    assert.match(r.stdout, /PASS memory stays bounded over 3,000 calls/);
    assert.match(r.stdout, /PASS post_hook \(provider error\)/);
    assert.match(r.stdout, /\d+ passed, 0 warnings, 0 failed/);
  });

  test('test: AssemblyScript stub runtime: a warning about growing memory, not a failure', async () => {
    const r = await plugin('test', fx('as-hello/as-hello-stub.wasm'), '--calls', '3000');
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /WARN memory stays bounded over 3,000 calls: memory grows with every call/);
    assert.match(r.stdout, /--runtime stub/);
  });

  test('test: a plugin that removes others\' context keys, or leaks, or cannot load fails (exit 1)', async () => {
    // Returning only its own keys is fine: the gateway merges (Bifrost's pass-through is "context": {}).
    const own = await plugin('test', constantPlugin('{"context":{"mine":1}}'), '--calls', '100');
    assert.match(own.stdout, /PASS context values survive every hook of a request/);
    const drops = await plugin('test', constantPlugin('{"context":{"conformance.probe":null}}'), '--calls', '100');
    assert.equal(drops.code, 1);
    assert.match(drops.stdout, /FAIL context values survive every hook of a request/);
    assert.match(drops.stdout, /pre_hook removed "conformance\.probe" \(set by the gateway\) by returning it as null/);

    const leaks = await plugin('test', constantPlugin('{}', '(drop (memory.grow (i32.const 1)))'), '--calls', '1000');
    assert.equal(leaks.code, 1);
    assert.match(leaks.stdout, /FAIL memory stays bounded over 1,000 calls: memory grows with every call/);
    assert.match(leaks.stdout, /about 65,\d{3} bytes kept per call/);

    const noAlloc = await plugin('test', watFile('(module (memory (export "memory") 1))'));
    assert.equal(noAlloc.code, 1);
    assert.match(noAlloc.stdout, /FAIL the module passes the gateway's start-up check\n.*no allocator/);
  });

  test('new + test: the TypeScript template passes at once; a broken hook fails', async () => {
    const made = await plugin('new', 'ts-demo', '--lang', 'typescript', '--dir', tmp);
    assert.equal(made.code, 0, made.stderr);
    const dir = join(tmp, 'ts-demo');
    assert.match(readFileSync(join(dir, 'src/plugin.ts'), 'utf8'), /name: 'ts-demo'/);
    const ok = await plugin('test', dir);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /PASS preLLMHook: returns what the contract allows/);
    assert.match(ok.stdout, /# pass 2/);

    const src = join(dir, 'src/plugin.ts');
    writeFileSync(src, readFileSync(src, 'utf8').replace("ctx.setValue('ts-demo.model', req.model);", "throw new Error('broken');"));
    const broken = await plugin('test', dir);
    assert.notEqual(broken.code, 0);
    assert.match(broken.stdout, /FAIL preLLMHook: throws/);
  });

  test('new + build + test: the AssemblyScript template builds and passes at once', async () => {
    const made = await plugin('new', 'as-demo', '--lang', 'assemblyscript', '--dir', tmp);
    assert.equal(made.code, 0, made.stderr);
    const dir = join(tmp, 'as-demo');
    const built = await plugin('build', dir);
    assert.equal(built.code, 0, built.stderr + built.stdout);
    assert.match(built.stdout, /PASS .*build\/as-demo\.wasm/);
    const tested = await plugin('test', dir, '--calls', '2000');
    assert.equal(tested.code, 0, tested.stdout + tested.stderr);
    assert.match(tested.stdout, /0 warnings, 0 failed/);
    assert.match(tested.stdout, /# pass 2/);
  });

  test('new writes Rust, C and Go projects; bad arguments are usage errors', async () => {
    for (const lang of ['rust', 'c', 'go']) {
      const r = await plugin('new', `${lang}-demo`, '--lang', lang, '--dir', tmp);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.match(readFileSync(join(tmp, 'rust-demo/Cargo.toml'), 'utf8'), /name = "rust-demo"/);
    assert.match(readFileSync(join(tmp, 'rust-demo/.cargo/config.toml'), 'utf8'), /offline = true/);
    assert.match(readFileSync(join(tmp, 'go-demo/main.go'), 'utf8'), /\/\/export plugin_malloc/);
    assert.match(readFileSync(join(tmp, 'c-demo/test/plugin.test.mjs'), 'utf8'), /build\/c-demo\.wasm/);
    const again = await plugin('new', 'rust-demo', '--lang', 'rust', '--dir', tmp);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
    const lang = await plugin('new', 'x', '--lang', 'cobol');
    assert.equal(lang.code, 2);
    assert.match(lang.stderr, /--lang must be one of assemblyscript, rust, go, c, typescript/);
    const name = await plugin('new', 'Bad_Name', '--lang', 'c', '--dir', tmp);
    assert.equal(name.code, 1);
    assert.match(name.stderr, /lowercase letters, digits and dashes/);
  });
});
