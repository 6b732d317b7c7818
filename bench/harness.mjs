// What the benchmark scripts (run.mjs, profile.mjs, scaling.mjs) share: paths, command-line
// options, free ports, and the V8 flags the gateway runs with.
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(BENCH, '..');
export const TMP = join(BENCH, 'results', 'tmp');
export const GW_MAIN = join(ROOT, 'packages/gateway/dist/cli/main.js');
mkdirSync(TMP, { recursive: true });

/** The script's own arguments. */
export const argv = process.argv.slice(2);
/** `--name` is present. */
export const flag = (name) => argv.includes(`--${name}`);
/** `--name value` or `--name=value`, else `dflt`. */
export const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < argv.length) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`--${name}=`));
  return eq ? eq.slice(name.length + 3) : dflt;
};

export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The V8 flags the `gatehouse` command and `npm start` use (packages/gateway/src/cli/node-flags.ts); needs the build. */
export async function gatewayNodeFlags() {
  if (!existsSync(GW_MAIN)) {
    console.error(`${GW_MAIN} is missing: run "npm run build" first`);
    process.exit(2);
  }
  return (await import(join(ROOT, 'packages/gateway/dist/cli/node-flags.js'))).NODE_FLAGS;
}
