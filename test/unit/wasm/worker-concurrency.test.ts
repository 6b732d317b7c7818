import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadWasmPlugin } from '../../../packages/gateway/src/plugins/wasm/index.js';
import type { WasmPlugin } from '../../../packages/gateway/src/plugins/wasm/index.js';
import { FIXTURES, ctx, entry, httpReq, opts } from './helpers.js';

test('worker pool: many concurrent calls, each answered with its own output, none fails', async () => {
  const plugin = (await loadWasmPlugin(entry(join(FIXTURES, 'as-hello/as-hello.wasm'), { isolation: 'worker', instances: 2 }), opts())) as WasmPlugin;
  try {
    // Eight clients in closed loops: each next call arrives while slots are being handed over.
    const calls = Array.from({ length: 8 }, async (_, client) => {
      for (let n = 0; n < 60; n++) {
        const i = client * 1000 + n;
        const c = ctx(`req-${i}`);
        c.setValue('probe', i);
        await plugin.httpTransportPreHook!(c, httpReq());
        // Context comes back from the plugin: a crossed channel would hand us another call's probe.
        assert.equal(c.value('probe'), i);
      }
    });
    const results = await Promise.allSettled(calls);
    const failed = results.filter((r) => r.status === 'rejected');
    assert.equal(failed.length, 0, failed.map((f) => String((f as PromiseRejectedResult).reason)).slice(0, 3).join('\n'));
    assert.equal(plugin.isHealthy!(), true);
  } finally {
    await plugin.cleanup?.();
  }
});

test('worker pool: a full queue refuses new calls at once, without marking the plugin unhealthy', async () => {
  const plugin = (await loadWasmPlugin(entry(join(FIXTURES, 'as-hello/as-hello.wasm'), { isolation: 'worker', instances: 1 }), opts())) as WasmPlugin;
  try {
    // One call takes the only worker, 256 wait for it, the rest are refused.
    const results = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => plugin.httpTransportPreHook!(ctx(`q-${i}`), httpReq())));
    const refused = results.filter((r) => r.status === 'rejected');
    assert.equal(refused.length, 300 - 257);
    assert.match(String((refused[0] as PromiseRejectedResult).reason), /all plugin workers busy and 256 calls already queued/);
    assert.equal(plugin.isHealthy!(), true);
    // The pool keeps serving once the queue drains.
    await plugin.httpTransportPreHook!(ctx('after'), httpReq());
  } finally {
    await plugin.cleanup?.();
  }
});
