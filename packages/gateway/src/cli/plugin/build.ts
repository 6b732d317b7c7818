/**
 * `gatehouse plugin build [DIR]`: compiles a plugin project to `build/NAME.wasm`, then runs the
 * gateway's start-up check on the result.
 * - AssemblyScript: asc with `--transform json-as`, the default (incremental) runtime and -O3.
 *   asc, json-as and @gatehouse/plugin-sdk come from the project's node_modules when it has them,
 *   else from the gateway's own install (a repo checkout has all three), passed to asc by path.
 * - Rust: Debian's cargo and rustc for wasm32-unknown-unknown (offline crates through the
 *   project's .cargo/config.toml); cargo from PATH (rustup) when Debian's is absent.
 * - C: clang for bare wasm32 (no libc). Go: TinyGo, when it is installed.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, statSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspectFile } from './inspect.js';
import { detectProject, type Project } from './project.js';
import { bold, dim, duration, err, FAIL, green, out, PASS, red } from './term.js';

const here = dirname(fileURLToPath(import.meta.url));
/** packages/gateway, from src/cli/plugin or dist/cli/plugin. */
export const GATEWAY_ROOT = resolve(here, '../../..');
const requireHere = createRequire(import.meta.url);

const RUST_PACKAGES = 'rustc cargo libstd-rust-dev-wasm32 lld-14 librust-serde-dev librust-serde-json-dev librust-serde-derive-dev';

export class ToolchainMissing extends Error {}

export async function buildCommand(dirArg: string): Promise<number> {
  const p = detectProject(dirArg);
  if (p.lang === 'typescript') {
    out(`${bold(p.name)} is a native TypeScript plugin: there is nothing to build (the gateway bundles ${relative(p.dir, p.entry!)} when it loads it).`);
    return 0;
  }
  const wasm = await buildProject(p);
  const r = await inspectFile(wasm);
  if (r.verdict.loads) {
    const rel = relative(process.cwd(), wasm);
    out(`${PASS()} ${green(rel.startsWith('..') ? wasm : rel)} ${dim(`${r.size} bytes; hooks: ${r.verdict.hooks.join(', ') || 'none'}`)}`);
    return 0;
  }
  out(`${FAIL()} ${red(`${wasm} was built but would not load:`)}`);
  for (const pr of r.problems) out(`  - ${pr}`);
  return 1;
}

/** Builds and returns the path of build/NAME.wasm; throws with the compiler's output on failure. */
export async function buildProject(p: Project): Promise<string> {
  mkdirSync(join(p.dir, 'build'), { recursive: true });
  const wasm = p.wasm!;
  switch (p.lang) {
    case 'assemblyscript': {
      const { cmd, args } = ascCommand(p, wasm);
      await step(`asc ${relative(p.dir, p.entry!)}`, cmd, args, p.dir);
      break;
    }
    case 'rust': {
      const cargo = existsSync('/usr/bin/cargo') ? '/usr/bin/cargo' : which('cargo');
      if (!cargo) throw new ToolchainMissing(`the Rust toolchain is not installed (no cargo). On Debian/Ubuntu: apt-get install -y --no-install-recommends ${RUST_PACKAGES}`);
      const env: NodeJS.ProcessEnv = {};
      if (cargo === '/usr/bin/cargo') {
        if (!existsSync('/usr/lib/rustlib/wasm32-unknown-unknown')) {
          throw new ToolchainMissing(`Rust is installed but not its wasm32 standard library. On Debian/Ubuntu: apt-get install -y --no-install-recommends libstd-rust-dev-wasm32 lld-14`);
        }
        env.RUSTC = '/usr/bin/rustc'; // rustup's rustc may come first in PATH; Debian's std pairs with Debian's rustc
      }
      if (!existsSync(join(p.dir, '.cargo/config.toml'))) err(dim('note: no .cargo/config.toml: crates come from crates.io (the templates use Debian\'s packaged crates, offline)'));
      await step('cargo build --release --target wasm32-unknown-unknown', cargo, ['build', '--release', '--target', 'wasm32-unknown-unknown'], p.dir, env);
      const artifact = join(p.dir, 'target/wasm32-unknown-unknown/release', `${p.name.replace(/-/g, '_')}.wasm`);
      if (!existsSync(artifact)) throw new Error(`cargo finished but ${artifact} is missing (is crate-type ["cdylib"] set in Cargo.toml?)`);
      copyFileSync(artifact, wasm);
      break;
    }
    case 'c': {
      const clang = which('clang');
      if (!clang || !which('wasm-ld')) throw new ToolchainMissing('clang and lld are needed for C plugins. On Debian/Ubuntu: apt-get install -y --no-install-recommends clang lld');
      await step('clang --target=wasm32', clang, ['--target=wasm32', '-O2', '-nostdlib', '-mbulk-memory', '-Wl,--no-entry', '-Wl,--export-dynamic', '-Wl,--strip-all', '-o', wasm, 'plugin.c'], p.dir);
      break;
    }
    case 'go': {
      const tinygo = which('tinygo');
      if (!tinygo) throw new ToolchainMissing('TinyGo is not installed (it is not packaged for Debian; see https://tinygo.org/getting-started/install/). Go itself cannot export the hook functions before Go 1.24.');
      await step('tinygo build -target=wasi', tinygo, ['build', '-o', wasm, '-target=wasi', '-scheduler=none', '-gc=conservative', '-no-debug', '.'], p.dir);
      break;
    }
    default:
      throw new Error(`cannot build a ${p.lang} project`);
  }
  return wasm;
}

function ascCommand(p: Project, wasm: string): { cmd: string; args: string[] } {
  const local = (pkg: string): boolean => existsSync(join(p.dir, 'node_modules', pkg, 'package.json'));
  let asc: string;
  if (local('assemblyscript')) asc = join(p.dir, 'node_modules/assemblyscript/bin/asc.js');
  else {
    try {
      asc = requireHere.resolve('assemblyscript/bin/asc.js');
    } catch {
      throw new ToolchainMissing('AssemblyScript is not installed: run `npm install` in the project (it lists assemblyscript and json-as)');
    }
  }
  const args = [asc, relative(p.dir, p.entry!), '--transform', local('json-as') ? 'json-as' : resolveJsonAs(), '-O3', '-o', relative(p.dir, wasm)];
  for (const dir of packagePaths(p, local)) args.push('--path', dir);
  return { cmd: process.execPath, args };
}

function resolveJsonAs(): string {
  try {
    return requireHere.resolve('json-as');
  } catch {
    throw new ToolchainMissing('json-as is not installed: run `npm install` in the project');
  }
}

/**
 * Package folders for asc's resolution when the project has no node_modules of its own: the
 * gateway's node_modules (json-as), and a folder linking @gatehouse/plugin-sdk to the SDK that
 * came with the gateway (packages/plugin-sdk in a repo checkout).
 */
function packagePaths(p: Project, local: (pkg: string) => boolean): string[] {
  const paths: string[] = [];
  if (!local('json-as')) paths.push(dirname(dirname(requireHere.resolve('json-as/package.json'))));
  if (!local('@gatehouse/plugin-sdk')) {
    const sdk = findSdk();
    if (sdk) {
      const link = mkdtempSync(join(tmpdir(), 'gatehouse-asc-'));
      mkdirSync(join(link, '@gatehouse'));
      symlinkSync(sdk, join(link, '@gatehouse', 'plugin-sdk'), 'dir');
      paths.push(link);
    }
  }
  return paths;
}

export function findSdk(): string | null {
  try {
    return dirname(requireHere.resolve('@gatehouse/plugin-sdk/package.json'));
  } catch {
    const sibling = resolve(GATEWAY_ROOT, '../plugin-sdk');
    return existsSync(join(sibling, 'package.json')) ? sibling : null;
  }
}

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const f = join(dir, cmd);
    try {
      if (statSync(f).isFile()) return f;
    } catch { /* not here */ }
  }
  return null;
}

/** Runs one build step with its output kept; shows the output only when the step fails. */
function step(label: string, cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const t0 = performance.now();
  const ticking = process.stderr.isTTY ? setInterval(() => process.stderr.write(`\r${dim(`building: ${label} ... ${duration(performance.now() - t0)}`)}`), 250) : null;
  if (!ticking) err(`building: ${label}`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env } });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    child.on('error', (e) => { if (ticking) clearInterval(ticking); reject(new Error(`cannot run ${cmd}: ${e.message}`)); });
    child.on('close', (code) => {
      if (ticking) { clearInterval(ticking); process.stderr.write('\r\x1b[2K'); }
      if (code === 0) {
        err(dim(`built in ${duration(performance.now() - t0)}: ${label}`));
        resolvePromise();
      } else {
        reject(new Error(`${label} failed (exit ${code}):\n${log.trim()}`));
      }
    });
  });
}
