/**
 * `gatehouse plugin new NAME --lang LANG [--dir D]`: copies templates/LANG (and, for the WASM
 * languages, the shared test harness in templates/_wasm-test) to D/NAME, replacing `__NAME__`.
 * Files named `_gitignore` / folders named `_cargo` become `.gitignore` / `.cargo` (npm drops
 * dot-files from published packages). The AssemblyScript project depends on the SDK by `file:`
 * path when the gateway runs from a repo checkout, else on the published version.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { findSdk, GATEWAY_ROOT } from './build.js';
import type { Lang } from './project.js';
import { bold, cyan, out } from './term.js';

const TEMPLATES = join(GATEWAY_ROOT, 'templates');
const WASM_LANGS: Lang[] = ['assemblyscript', 'rust', 'go', 'c'];

export async function newCommand(name: string, lang: Lang, dirArg: string): Promise<number> {
  if (!/^[a-z][a-z0-9-]{0,63}$/.test(name) || name.endsWith('-')) {
    throw new Error(`plugin name "${name}" must be lowercase letters, digits and dashes, starting with a letter (it becomes a package, crate and file name)`);
  }
  const dest = resolve(dirArg, name);
  if (existsSync(dest) && readdirSync(dest).length > 0) throw new Error(`${dest} already exists and is not empty`);
  const vars: Record<string, string> = { __NAME__: name, __SDK_DEP__: sdkDependency() };
  const written: string[] = [];
  const sources = [join(TEMPLATES, lang), ...(WASM_LANGS.includes(lang) ? [join(TEMPLATES, '_wasm-test')] : [])];
  for (const src of sources) copyTree(src, dest, vars, written);
  const rel = relative(process.cwd(), dest);
  const where = rel === '' ? '.' : rel.startsWith('..') ? dest : rel;
  out(`${bold(`Created ${name}`)} (${lang}) in ${where}:`);
  for (const f of written.sort()) out(`  ${relative(dest, f)}`);
  out();
  out('Next:');
  if (lang === 'typescript') {
    out(`  ${cyan(`gatehouse plugin test ${where}`)}`);
  } else {
    out(`  ${cyan(`gatehouse plugin build ${where}`)}`);
    out(`  ${cyan(`gatehouse plugin test ${where}`)}`);
  }
  out(`  then add the entry in ${join(where, 'config.json')} to your gateway config.`);
  return 0;
}

function copyTree(src: string, dest: string, vars: Record<string, string>, written: string[]): void {
  mkdirSync(dest, { recursive: true });
  for (const entry of readdirSync(src)) {
    const from = join(src, entry);
    const to = join(dest, entry === '_gitignore' ? '.gitignore' : entry === '_cargo' ? '.cargo' : entry);
    if (statSync(from).isDirectory()) {
      copyTree(from, to, vars, written);
      continue;
    }
    let text = readFileSync(from, 'utf8');
    for (const [k, v] of Object.entries(vars)) text = text.split(k).join(v);
    writeFileSync(to, text);
    written.push(to);
  }
}

/** The SDK as a package.json dependency: the checkout's copy by path, else the published one. */
function sdkDependency(): string {
  const sdk = findSdk();
  if (sdk && !sdk.includes(`${'node_modules'}`)) return `file:${sdk}`;
  try {
    const v = (JSON.parse(readFileSync(join(sdk ?? '', 'package.json'), 'utf8')) as { version?: string }).version;
    return v ? `^${v}` : '*';
  } catch {
    return '*';
  }
}
