/**
 * `gatehouse plugin test TARGET`: TARGET is a .wasm file (the conformance check), a native plugin
 * file (.ts/.js), or a project folder (its module's conformance check, then the project's own
 * tests under test/, run with node's test runner; TypeScript tests are bundled with esbuild first,
 * so a fresh project needs no `npm install` to be tested).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { conformance, summarise, type Check } from './conformance.js';
import { nativeConformance } from './native.js';
import { detectProject } from './project.js';
import { bold, out } from './term.js';

export async function testCommand(target: string, opts: { calls?: number; config?: Record<string, unknown> }): Promise<number> {
  if (!existsSync(target)) throw new Error(`no such file or directory: ${target}`);
  if (!statSync(target).isDirectory()) {
    out(bold(`conformance: ${target}`));
    const checks = /\.(wasm)$/.test(target) ? await conformance(target, opts) : await nativeConformance(target, opts.config);
    return summarise(checks);
  }
  const p = detectProject(target);
  let checks: Check[];
  out(bold(`conformance: ${p.name} (${p.lang})`));
  if (p.lang === 'typescript') {
    checks = await nativeConformance(p.entry!, opts.config);
  } else {
    if (!existsSync(p.wasm!)) throw new Error(`${relative(process.cwd(), p.wasm!)} does not exist: run \`gatehouse plugin build ${target}\` first`);
    checks = await conformance(p.wasm!, opts);
  }
  const code = summarise(checks);
  const tests = projectTests(p.dir);
  if (tests.length === 0) return code;
  out();
  out(bold(`project tests: ${tests.map((t) => relative(p.dir, t)).join(', ')}`));
  const own = await runProjectTests(p.dir, tests);
  return code !== 0 ? code : own;
}

function projectTests(dir: string): string[] {
  const testDir = join(dir, 'test');
  if (!existsSync(testDir)) return [];
  return readdirSync(testDir).filter((f) => /\.test\.(m?js|ts|mts)$/.test(f)).sort().map((f) => join(testDir, f));
}

async function runProjectTests(dir: string, files: string[]): Promise<number> {
  const temp: string[] = [];
  const runnable: string[] = [];
  try {
    for (const f of files) {
      if (!/\.m?ts$/.test(f)) { runnable.push(f); continue; }
      // Beside the source, so `import.meta.url`-relative paths in the test still hold.
      const outfile = join(dir, 'test', `.${basename(f).replace(/\.m?ts$/, '')}.gatehouse.mjs`);
      const { build } = await import('esbuild');
      await build({ entryPoints: [f], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'error' });
      temp.push(outfile);
      runnable.push(outfile);
    }
    return await new Promise<number>((resolve) => {
      // Relayed rather than inherited, so the output is ours and in order when we are piped.
      // Under an outer `node --test`, NODE_TEST_CONTEXT would switch the reporter to a binary protocol.
      const env = { ...process.env };
      delete env.NODE_TEST_CONTEXT;
      const child = spawn(process.execPath, ['--test', ...runnable], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (d: Buffer) => process.stdout.write(d));
      child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
      child.on('close', (code) => resolve(code ?? 1));
      child.on('error', () => resolve(1));
    });
  } finally {
    for (const t of temp) rmSync(t, { force: true });
  }
}
