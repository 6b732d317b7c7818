#!/usr/bin/env node
// Runs every `*.test.ts` under test/, examples/ and packages/plugin-sdk/ with node's own test runner (TypeScript via tsx).
// Node 20's `--test` does not expand globs, so the files are collected here.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { startTestServices } from './test-services.mjs';

const root = new URL('..', import.meta.url).pathname;
const roots = ['test', 'examples', 'packages/plugin-sdk'];
const filter = process.argv.slice(2);

function collect(dir, out) {
  let names;
  try { names = readdirSync(dir); } catch { return out; }
  for (const name of names) {
    if (name === 'node_modules' || name === 'build' || name === 'target') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

let files = roots.flatMap((r) => collect(join(root, r), [])).sort();
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
// Redis and PostgreSQL for the store/governance tests: started here unless the environment names them.
const services = await startTestServices();
const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, ...services.env, NODE_NO_WARNINGS: '1' },
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
const status = await new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
await services.stop();
process.exit(status);
