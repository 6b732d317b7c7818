// A minimal host for this plugin's tests: the documented binary interface with Node built-ins
// only (no gateway needed). malloc the input, call the hook, unpack the i64 (pointer in the upper
// 32 bits, length in the lower), read the UTF-8 JSON, free both blocks.
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

export function loadPlugin(file, config = {}) {
  const module = new WebAssembly.Module(readFileSync(file));
  const usesWasi = WebAssembly.Module.imports(module).some((i) => i.module === 'wasi_snapshot_preview1');
  const wasi = usesWasi ? new WASI({ version: 'preview1', args: [], env: {} }) : null;
  let memory;
  const text = (ptr, len) => new TextDecoder().decode(new Uint8Array(memory.buffer, ptr, len));
  const imports = {
    ...(wasi ? wasi.getImportObject() : {}),
    env: { abort: (msg, file, line, col) => { throw new Error(`abort at ${line}:${col}`); } },
  };
  const instance = new WebAssembly.Instance(module, imports);
  const x = instance.exports;
  memory = x.memory;
  if (wasi && x._initialize) wasi.initialize(instance);
  const malloc = x.plugin_malloc ?? x.malloc;
  const free = x.plugin_free ?? x.free;
  const release = (ptr, len) => { if (free) free.length === 2 ? free(ptr, len) : free(ptr); };
  const put = (s) => {
    const bytes = new TextEncoder().encode(s);
    const ptr = malloc(bytes.length) >>> 0;
    new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);
    return [ptr, bytes.length];
  };
  if (x.init) {
    const [p, n] = put(JSON.stringify(config));
    const rc = x.init(p, n);
    release(p, n);
    if (rc !== 0) throw new Error(`init returned ${rc}`);
  }
  return {
    exports: x,
    /** Calls a hook with a JS object; returns the parsed output, or null for "no change". */
    call(hook, input) {
      const [p, n] = put(JSON.stringify(input));
      const r = BigInt.asUintN(64, x[hook](p, n));
      const ptr = Number(r >> 32n);
      const len = Number(r & 0xffffffffn);
      let out = null;
      if (r !== 0n && len !== 0) {
        out = JSON.parse(text(ptr, len));
        if (ptr !== p) release(ptr, len);
      }
      release(p, n);
      return out;
    },
  };
}
