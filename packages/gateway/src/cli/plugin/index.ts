/**
 * `gatehouse plugin <new|build|inspect|run|test>`: the plugin author's tools. Each subcommand
 * lives in its own module and returns the process exit code.
 */
import { parseArgs } from 'node:util';
import { LANGS, type Lang } from './project.js';

export const PLUGIN_USAGE = `  gatehouse plugin new NAME --lang assemblyscript|rust|go|c|typescript [--dir D]
      Write a new plugin project (source, build script, README, test) to D/NAME (D defaults to .).
  gatehouse plugin build [DIR]
      Build an AssemblyScript, Rust, C or Go project to DIR/build/NAME.wasm (DIR defaults to .).
  gatehouse plugin inspect FILE.wasm [--json]
      Imports, exports and the ABI verdict: hooks, allocator, free, WASI, and why it would not load.
  gatehouse plugin run FILE.wasm --hook HOOK --input FILE.json|sample [--config CFG.json] [--json]
      Call one hook through the gateway's host; print the output, time and memory.
      HOOK: http_pre_hook, pre_hook, post_hook, http_stream_chunk_hook, http_post_hook, http_intercept.
  gatehouse plugin test FILE.wasm|PLUGIN.ts|DIR [--config CFG.json] [--calls N]
      Conformance check (every hook, output shapes, context, memory over N=10000 calls);
      for a project DIR, then its own tests. Exit code 1 when a check fails.`;

export async function pluginCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const usage = (msg?: string): number => {
    if (msg) console.error(`gatehouse plugin: ${msg}\n`);
    (msg ? console.error : console.log)(`Usage:\n${PLUGIN_USAGE}`);
    return msg ? 2 : 0;
  };
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') return usage(sub ? undefined : 'missing subcommand');

  switch (sub) {
    case 'new': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { lang: { type: 'string', short: 'l' }, dir: { type: 'string', short: 'd' } } });
      const name = positionals[0];
      if (!name || positionals.length > 1) return usage('new takes one NAME');
      if (!values.lang || !(LANGS as readonly string[]).includes(values.lang)) return usage(`--lang must be one of ${LANGS.join(', ')}`);
      const { newCommand } = await import('./new.js');
      return newCommand(name, values.lang as Lang, values.dir ?? '.');
    }
    case 'build': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
      if (positionals.length > 1) return usage('build takes at most one DIR');
      const { buildCommand } = await import('./build.js');
      return buildCommand(positionals[0] ?? '.');
    }
    case 'inspect': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean' } } });
      if (positionals.length !== 1) return usage('inspect takes one FILE.wasm');
      const { inspectCommand } = await import('./inspect.js');
      return inspectCommand(positionals[0]!, values.json === true);
    }
    case 'run': {
      const { values, positionals } = parseArgs({
        args: rest, allowPositionals: true,
        options: { hook: { type: 'string' }, input: { type: 'string', short: 'i' }, config: { type: 'string', short: 'c' }, json: { type: 'boolean' } },
      });
      if (positionals.length !== 1) return usage('run takes one FILE.wasm');
      if (!values.hook) return usage('run needs --hook HOOK');
      const { runCommand } = await import('./run.js');
      return runCommand({ file: positionals[0]!, hook: values.hook, input: values.input ?? 'sample', config: values.config, json: values.json === true });
    }
    case 'test': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { config: { type: 'string', short: 'c' }, calls: { type: 'string' } } });
      if (positionals.length > 1) return usage('test takes one FILE.wasm, PLUGIN.ts or DIR');
      const calls = values.calls === undefined ? undefined : Number(values.calls);
      if (calls !== undefined && (!Number.isInteger(calls) || calls < 1)) return usage('--calls must be a positive integer');
      const { readJsonFile } = await import('./load.js');
      const config = values.config ? await readJsonFile(values.config, 'config') : undefined;
      if (config !== undefined && (typeof config !== 'object' || config === null || Array.isArray(config))) return usage('--config must hold a JSON object');
      const { testCommand } = await import('./test.js');
      return testCommand(positionals[0] ?? '.', { calls, config: config as Record<string, unknown> | undefined });
    }
    default:
      return usage(`unknown subcommand "${sub}"`);
  }
}
