import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
export const CLI = join(root, 'packages/gateway/src/cli/main.ts');

export function writeConfig(obj: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-cli-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, typeof obj === 'string' ? obj : JSON.stringify(obj));
  return file;
}

/** Runs the CLI to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, ...env }, cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Starts `gatehouse serve` and resolves with its URL once the banner is printed. `detached` puts it
 * in a process group of its own, so a test can end it with its cluster workers: `killGroup`.
 */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}, opts: { detached?: boolean } = {}): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', ...args], { env: { ...process.env, ...env }, cwd: root, detached: opts.detached });
    let out = '';
    const onData = (d: Buffer): void => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] as string, output: () => out });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${out}`)));
  });
}

/** SIGKILL to a detached child's whole process group (workers included); no-op once it is gone. */
export function killGroup(child: ChildProcess): void {
  try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
}
