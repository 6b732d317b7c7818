/**
 * `gatehouse plugin run FILE.wasm --hook HOOK --input FILE.json|sample [--config cfg.json] [--json]`:
 * one hook call through the real host, inline. Prints the output JSON, whether it has the hook's
 * shape, the time the call took and the instance's memory before and after.
 */
import { readFile } from 'node:fs/promises';
import { inspectWasm } from '../../plugins/wasm/index.js';
import { callHook } from './hooks.js';
import { loadForTools, readJsonFile } from './load.js';
import { SAMPLE_CONTEXT, SAMPLES, sampleFor } from './samples.js';
import { bold, bytes, dim, duration, err, FAIL, green, out, PASS, red } from './term.js';

export interface RunOptions { file: string; hook: string; input: string; config?: string; json: boolean }

export async function runCommand(o: RunOptions): Promise<number> {
  if (!(o.hook in SAMPLES)) throw new Error(`unknown hook "${o.hook}"; hooks: ${Object.keys(SAMPLES).join(', ')}`);
  const buf = await readFile(o.file).catch((e: Error) => { throw new Error(`cannot read ${o.file}: ${e.message}`); });
  const ins = inspectWasm(new Uint8Array(buf));
  if (!ins.abi) throw new Error(`${o.file} would not load:\n  - ${ins.problems.join('\n  - ')}\n(see: gatehouse plugin inspect ${o.file})`);
  if (!(ins.abi.hooks as string[]).includes(o.hook)) {
    throw new Error(`${o.file} does not export "${o.hook}"; it exports: ${ins.abi.hooks.join(', ') || 'no hooks'}`);
  }

  const doc = o.input === 'sample' ? sampleFor(o.hook) : await readJsonFile(o.input, 'input');
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error(`input must be a JSON object (the ${o.hook} input document)`);
  const input = doc as Record<string, unknown>;
  if (!('context' in input)) input.context = { ...SAMPLE_CONTEXT };
  const config = o.config ? await readJsonFile(o.config, 'config') : {};
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new Error('config must be a JSON object (the entry\'s "config")');

  const { plugin, printed, loadMs } = await loadForTools(o.file, { config: config as Record<string, unknown> });
  const r = await callHook(plugin, o.hook, JSON.stringify(input));
  await plugin.cleanup?.();

  let parsed: unknown = null;
  if (r.output !== null) {
    try { parsed = JSON.parse(r.output); } catch { parsed = undefined; }
  }
  const ok = r.failure === null && r.shapeError === null;
  if (o.json) {
    out(JSON.stringify({
      hook: o.hook, ok, output: parsed === undefined ? r.output : parsed, failure: r.failure, shape_error: r.shapeError,
      time_ms: r.ms, load_ms: loadMs, memory_bytes_before: r.memoryBefore, memory_bytes_after: r.memoryAfter, printed,
    }, null, 2));
    return ok ? 0 : 1;
  }

  out(`${bold(o.hook)} ${dim(`(${o.input === 'sample' ? 'sample input' : o.input})`)}`);
  if (r.failure !== null) {
    out(`${FAIL()} ${red(`the call failed: ${r.failure}`)}`);
  } else if (r.output === null) {
    out(dim('no output (pass-through: nothing changes)'));
  } else {
    out(parsed === undefined ? r.output : JSON.stringify(parsed, null, 2));
  }
  if (r.failure === null) out(r.shapeError === null ? `${PASS()} ${green('output has the hook\'s shape')}` : `${FAIL()} ${red(`output rejected: ${r.shapeError}`)}`);
  out(`time:   ${duration(r.ms)} ${dim(`(load and init: ${duration(loadMs)})`)}`);
  if (r.memoryBefore !== null || r.memoryAfter !== null) {
    const grew = (r.memoryAfter ?? 0) - (r.memoryBefore ?? 0);
    out(`memory: ${r.memoryAfter === null ? 'instance discarded after the failure' : bytes(r.memoryAfter)}${grew > 0 ? dim(` (grew ${grew / 65536} pages during the call)`) : ''}`);
  }
  if (printed.length) {
    err(dim('plugin output:'));
    for (const l of printed) err(`  ${l}`);
  }
  return ok ? 0 : 1;
}
