/**
 * What kind of plugin project a directory holds, and its name (the `NAME` of `build/NAME.wasm`).
 * Projects made by `gatehouse plugin new` say it in package.json (`"gatehouse": {"plugin": LANG}`);
 * others are recognised by their files: Cargo.toml (Rust), go.mod (Go), *.c (C), assembly/ (AS).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

export const LANGS = ['assemblyscript', 'rust', 'go', 'c', 'typescript'] as const;
export type Lang = (typeof LANGS)[number];

export interface Project {
  dir: string;
  lang: Lang;
  name: string;
  /** The entry source (AssemblyScript, TypeScript). */
  entry: string | null;
  /** Where the build puts the module (WASM languages). */
  wasm: string | null;
}

interface PackageJson { name?: string; gatehouse?: { plugin?: string; entry?: string } }

export function detectProject(dirArg: string): Project {
  const dir = resolve(dirArg);
  if (!existsSync(dir)) throw new Error(`no such directory: ${dir}`);
  const has = (f: string): boolean => existsSync(join(dir, f));
  const wasmOf = (name: string): string => join(dir, 'build', `${name}.wasm`);

  let pkg: PackageJson | null = null;
  if (has('package.json')) {
    try {
      pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
    } catch (e) {
      throw new Error(`${join(dir, 'package.json')} is not valid JSON: ${(e as Error).message}`);
    }
  }
  const pkgName = (pkg?.name ?? basename(dir)).replace(/^@[^/]+\//, '');
  const marked = pkg?.gatehouse?.plugin;
  if (marked === 'typescript' || (!marked && pkg && has('src/plugin.ts') && !has('assembly'))) {
    return { dir, lang: 'typescript', name: pkgName, entry: join(dir, pkg?.gatehouse?.entry ?? 'src/plugin.ts'), wasm: null };
  }
  if (marked === 'assemblyscript' || (pkg && has('assembly'))) {
    const entry = pkg?.gatehouse?.entry ?? (has('assembly/plugin.ts') ? 'assembly/plugin.ts' : 'assembly/index.ts');
    return { dir, lang: 'assemblyscript', name: pkgName, entry: join(dir, entry), wasm: wasmOf(pkgName) };
  }
  if (has('Cargo.toml')) {
    const m = /^\s*name\s*=\s*"([^"]+)"/m.exec(readFileSync(join(dir, 'Cargo.toml'), 'utf8'));
    const name = m?.[1] ?? basename(dir);
    return { dir, lang: 'rust', name, entry: null, wasm: wasmOf(name) };
  }
  if (has('go.mod')) return { dir, lang: 'go', name: basename(dir), entry: null, wasm: wasmOf(basename(dir)) };
  if (readdirSync(dir).some((f) => f.endsWith('.c'))) return { dir, lang: 'c', name: basename(dir), entry: null, wasm: wasmOf(basename(dir)) };
  throw new Error(`${dir} is not a plugin project I know: expected package.json with assembly/ (AssemblyScript), Cargo.toml (Rust), go.mod (Go) or a .c file`);
}
