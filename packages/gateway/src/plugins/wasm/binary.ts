/**
 * A minimal reader of the WebAssembly binary format: only the sections the contract talks about
 * (types, imports, functions, memory, exports). `WebAssembly.Module.exports()` gives names and
 * kinds but no signatures, and the contract needs signatures (the arity of `free`, the i64 hooks),
 * so we read them here: cheap, synchronous, and usable by `gatehouse plugin inspect` without
 * compiling. Also patches the memory maximum in place (the memory cap), no rewriting toolchain needed.
 */

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';
export type ExternKind = 'func' | 'table' | 'memory' | 'global' | 'tag';

export interface FuncType { params: ValType[]; results: ValType[] }
export interface Limits { min: number; max: number | null; shared: boolean; memory64: boolean }
export interface ImportEntry { module: string; name: string; kind: ExternKind; type?: FuncType; limits?: Limits }
export interface ExportEntry { name: string; kind: ExternKind; type?: FuncType; limits?: Limits }

export interface ModuleInfo {
  imports: ImportEntry[];
  exports: ExportEntry[];
  /** Memories defined by the module (not imported). */
  memories: Limits[];
  /** Byte range of the memory section (`header` = its id byte), for patching. */
  memorySection: { header: number; start: number; end: number } | null;
}

const VALTYPES: Record<number, ValType> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };
const KINDS: ExternKind[] = ['func', 'table', 'memory', 'global', 'tag'];

export class WasmFormatError extends Error {}

class Reader {
  pos: number;
  constructor(readonly b: Uint8Array, pos = 0) { this.pos = pos; }
  byte(): number {
    if (this.pos >= this.b.length) throw new WasmFormatError('unexpected end of module');
    return this.b[this.pos++]!;
  }
  u32(): number {
    let result = 0, shift = 0, byte: number;
    do {
      byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (shift > 35) throw new WasmFormatError('LEB128 too long');
    } while (byte & 0x80);
    return result;
  }
  /** u64 limits of memory64 are read as a double; precision does not matter for reporting. */
  u64(): number {
    let result = 0, shift = 0, byte: number;
    do {
      byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (shift > 70) throw new WasmFormatError('LEB128 too long');
    } while (byte & 0x80);
    return result;
  }
  name(): string {
    const n = this.u32();
    if (this.pos + n > this.b.length) throw new WasmFormatError('name past end of module');
    const s = new TextDecoder('utf-8', { fatal: true }).decode(this.b.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  valtype(): ValType {
    const t = this.byte();
    const v = VALTYPES[t];
    if (!v) throw new WasmFormatError(`unsupported value type 0x${t.toString(16)}`);
    return v;
  }
  limits(): Limits {
    const flags = this.byte();
    if (flags > 7) throw new WasmFormatError(`unsupported limits flags 0x${flags.toString(16)}`);
    const memory64 = (flags & 4) !== 0;
    const min = memory64 ? this.u64() : this.u32();
    const max = flags & 1 ? (memory64 ? this.u64() : this.u32()) : null;
    return { min, max, shared: (flags & 2) !== 0, memory64 };
  }
}

export function parseModule(bytes: Uint8Array): ModuleInfo {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new WasmFormatError('not a WebAssembly module (bad magic number)');
  }
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    throw new WasmFormatError('unsupported WebAssembly binary version (a component, not a core module?)');
  }
  const r = new Reader(bytes, 8);
  const types: FuncType[] = [];
  const funcTypes: number[] = []; // function index space -> type index (imports first)
  const imports: ImportEntry[] = [];
  const memories: Limits[] = [];
  const importedMemories: Limits[] = [];
  const rawExports: { name: string; kind: ExternKind; index: number }[] = [];
  let memorySection: ModuleInfo['memorySection'] = null;

  while (r.pos < bytes.length) {
    const header = r.pos;
    const id = r.byte();
    const size = r.u32();
    const start = r.pos;
    const end = start + size;
    if (end > bytes.length) throw new WasmFormatError(`section ${id} runs past the end of the module`);
    if (id === 1) {
      for (let n = r.u32(); n > 0; n--) {
        const form = r.byte();
        if (form !== 0x60) throw new WasmFormatError(`unsupported type form 0x${form.toString(16)}`);
        const params: ValType[] = [];
        for (let k = r.u32(); k > 0; k--) params.push(r.valtype());
        const results: ValType[] = [];
        for (let k = r.u32(); k > 0; k--) results.push(r.valtype());
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        const module = r.name();
        const name = r.name();
        const kind = KINDS[r.byte()];
        if (!kind) throw new WasmFormatError(`unknown import kind in ${module}.${name}`);
        const entry: ImportEntry = { module, name, kind };
        if (kind === 'func') { const t = r.u32(); funcTypes.push(t); entry.type = types[t]; }
        else if (kind === 'table') { r.byte(); r.limits(); }
        else if (kind === 'memory') { entry.limits = r.limits(); importedMemories.push(entry.limits); }
        else if (kind === 'global') { r.valtype(); r.byte(); }
        else { r.byte(); r.u32(); }
        imports.push(entry);
      }
    } else if (id === 3) {
      for (let n = r.u32(); n > 0; n--) funcTypes.push(r.u32());
    } else if (id === 5) {
      memorySection = { header, start, end };
      for (let n = r.u32(); n > 0; n--) memories.push(r.limits());
    } else if (id === 7) {
      for (let n = r.u32(); n > 0; n--) {
        const name = r.name();
        const kind = KINDS[r.byte()];
        if (!kind) throw new WasmFormatError(`unknown export kind for "${name}"`);
        rawExports.push({ name, kind, index: r.u32() });
      }
    }
    r.pos = end;
  }

  const allMemories = [...importedMemories, ...memories];
  const exports: ExportEntry[] = rawExports.map((e) => {
    const out: ExportEntry = { name: e.name, kind: e.kind };
    if (e.kind === 'func') out.type = types[funcTypes[e.index] ?? -1];
    if (e.kind === 'memory') out.limits = allMemories[e.index];
    return out;
  });
  return { imports, exports, memories, memorySection };
}

export function formatType(t: FuncType | undefined): string {
  if (!t) return '(unknown)';
  return `(${t.params.join(', ')}) -> ${t.results.length === 0 ? '()' : t.results.length === 1 ? t.results[0] : `(${t.results.join(', ')})`}`;
}

/**
 * Returns a copy of the module whose first defined memory has `maximum = min(declared, maxPages +
 * slackPages)`. Throws when the module's declared minimum already exceeds the cap (`maxPages`).
 * The slack lets a grow past the cap succeed, so the host sees it after the call (memory larger
 * than the cap) and fails the call, instead of the guest quietly getting -1.
 */
export function capMemory(bytes: Uint8Array, info: ModuleInfo, maxPages: number, slackPages = 0): Uint8Array {
  const sec = info.memorySection;
  const mem = info.memories[0];
  if (!sec || !mem) return bytes;
  if (mem.min > maxPages) {
    throw new WasmFormatError(`memory minimum ${mem.min} pages (${pagesToMiB(mem.min)} MiB) exceeds the limit of ${maxPages} pages (${pagesToMiB(maxPages)} MiB)`);
  }
  const limit = maxPages + slackPages;
  const max = mem.max === null ? limit : Math.min(mem.max, limit);
  if (mem.max === max) return bytes;
  // Re-encode the whole memory section: count, then each memory's limits (only the first changes).
  const body: number[] = [];
  leb(body, info.memories.length);
  info.memories.forEach((m, i) => {
    body.push((m.shared ? 2 : 0) | 1);
    leb(body, m.min);
    leb(body, i === 0 ? max : (m.max ?? limit));
  });
  const header: number[] = [5];
  leb(header, body.length);
  const headerStart = sec.header;
  const out = new Uint8Array(headerStart + header.length + body.length + (bytes.length - sec.end));
  out.set(bytes.subarray(0, headerStart), 0);
  out.set(header, headerStart);
  out.set(body, headerStart + header.length);
  out.set(bytes.subarray(sec.end), headerStart + header.length + body.length);
  return out;
}

function leb(out: number[], v: number): void {
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
}

function pagesToMiB(p: number): number {
  return Math.round((p * 65536) / 1048576 * 100) / 100;
}
