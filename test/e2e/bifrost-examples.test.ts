/**
 * Plugins in the shape of Bifrost's examples/plugins/hello-world-wasm-* (our own code, built here
 * from test/fixtures/wasm/bifrost-shape-as the way Bifrost's example builds: AssemblyScript,
 * `--runtime stub --use abort=`): their documented pass-through outputs (`"context": {}`,
 * `"response": null`) must change nothing, whatever other plugins put in the context.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, afterEach, before, describe, test } from 'node:test';
import OpenAI from 'openai';

import { runCli } from '../helpers/cli.js';
import { mockConfig, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const root = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'gh-bifrost-shape-'));
const wasm = join(dir, 'bifrost-shape-as.wasm');
const reporter = join(dir, 'reporter.mjs');

const gateways: TestGateway[] = [];
async function gateway(plugins: Record<string, unknown>[]): Promise<{ gw: TestGateway; client: OpenAI }> {
  const gw = await startTestGateway(mockConfig({ plugins }));
  gateways.push(gw);
  return { gw, client: new OpenAI({ baseURL: gw.baseURL, apiKey: 'unused', maxRetries: 0 }) };
}

describe("Bifrost-shaped hello-world WASM plugin (AssemblyScript, stub runtime)", () => {
  before(async () => {
    await promisify(execFile)(join(root, 'node_modules/.bin/asc'), [
      join(root, 'test/fixtures/wasm/bifrost-shape-as/assembly/plugin.ts'), '--runtime', 'stub', '--use', 'abort=', '-O3', '-o', wasm,
    ], { cwd: root });
    // Native plugins on both sides: values set before the WASM plugin must survive it; the context
    // and the response are reported from the outermost transport post-hook.
    writeFileSync(reporter, `
      export function httpTransportPreHook(ctx) { ctx.setValue('native.before', 'kept'); }
      export function preLLMHook(ctx) { ctx.setValue('native.pre', 42); }
      export function httpTransportPostHook(ctx, req, resp) { if (resp) resp.headers['x-context'] = JSON.stringify(ctx.values); }`);
  });
  afterEach(async () => { while (gateways.length) await gateways.pop()!.close(500); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('pass-through outputs change neither the context nor the response', async () => {
    const plain = await gateway([{ name: 'reporter', path: reporter }]);
    const shaped = await gateway([{ name: 'reporter', path: reporter }, { name: 'bifrost-shape', path: wasm }]);
    const ask = { model: 'mock/hello', messages: [{ role: 'user' as const, content: 'hi from a Bifrost plugin' }] };
    const a = await plain.client.chat.completions.create(ask).withResponse();
    const b = await shaped.client.chat.completions.create(ask).withResponse();
    assert.deepEqual(b.data.choices, a.data.choices, 'the response is unchanged');
    assert.deepEqual(b.data.usage, a.data.usage);
    const ctx = JSON.parse(b.response.headers.get('x-context') ?? '{}');
    assert.equal(ctx['native.before'], 'kept', 'a value set before the plugin survives its "context": {}');
    assert.equal(ctx['native.pre'], 42);
    assert.equal(ctx['bifrost_shape.http'], 'seen', 'what the plugin did set is there');
    assert.equal(ctx.request_id, b.response.headers.get('x-request-id'));
  });

  test('streaming: the text and the context come through unchanged', async () => {
    const { client } = await gateway([{ name: 'reporter', path: reporter }, { name: 'bifrost-shape', path: wasm }]);
    const stream = await client.chat.completions.create({ model: 'mock/hello', stream: true, messages: [{ role: 'user', content: 'one two three' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'Echo: one two three');
  });

  test('plugin test: stub-runtime growth is a warning, not a failure; the context check passes', async () => {
    const r = await runCli(['plugin', 'test', wasm, '--calls', '10000'], { NO_COLOR: '1' });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /PASS context values survive every hook of a request/);
    assert.match(r.stdout, /WARN memory stays bounded over 10,000 calls: memory grows with every call/);
    assert.match(r.stdout, /--runtime stub/);
  });
});
