#!/usr/bin/env -S node --max-semi-space-size=8 --heap-growing-percent=100 --no-memory-reducer
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { PLUGIN_USAGE } from './plugin/index.js';
import { serve } from './serve.js';

const USAGE = `Usage:
  gatehouse serve [-c|--config FILE] [--port N] [--host H] [--workers N]
      Start the gateway. FILE defaults to $GATEHOUSE_CONFIG, else ./config.json.
      The port defaults to $PORT, else the config's server.port, else 8080.
      --workers (or $GATEHOUSE_WORKERS): processes sharing the port, default one per core.
  gatehouse schema
      Print the JSON Schema of config.json (for editors).
${PLUGIN_USAGE}
  gatehouse --help | --version`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  if (command === '--version' || command === '-v') {
    const { createRequire } = await import('node:module');
    console.log((createRequire(import.meta.url)('../../package.json') as { version: string }).version);
    return 0;
  }
  if (command === 'serve') {
    const { values } = parseArgs({
      args: rest,
      options: { config: { type: 'string', short: 'c' }, port: { type: 'string', short: 'p' }, host: { type: 'string' }, workers: { type: 'string', short: 'w' } },
      strict: true,
    });
    return serve({ config: values.config, port: values.port, host: values.host, workers: values.workers });
  }
  if (command === 'plugin') {
    const { pluginCommand } = await import('./plugin/index.js');
    return pluginCommand(rest);
  }
  if (command === 'schema') {
    const { configJsonSchema } = await import('../config/json-schema.js');
    console.log(JSON.stringify(configJsonSchema(), null, 2));
    return 0;
  }
  console.error(`gatehouse: unknown command "${command}"\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code === -1) return;
    process.exitCode = code;
    // A failed start may leave handles behind (plugin worker threads, a cluster IPC channel):
    // leave explicitly so the failure is seen. Success paths (help, schema) end naturally, so
    // piped output is never cut short.
    if (code !== 0 || cluster.isWorker) process.exit(code);
  },
  (err) => {
    console.error(`gatehouse: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
