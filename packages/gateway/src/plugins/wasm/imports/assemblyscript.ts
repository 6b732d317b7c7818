/**
 * `env.abort(msg, file, line, col)`, as every AssemblyScript module built without `--use abort=`
 * imports it (the documents' build line does). The strings are AssemblyScript objects: UTF-16LE
 * code units, with the byte length stored in the u32 just before the pointer. The host decodes
 * them for the report, then traps by throwing.
 */

/** Thrown from `env.abort`; instance.ts reports it as the plugin's own failure message. */
export class GuestAbort extends Error {
  constructor(readonly text: string) {
    super(text);
    this.name = 'GuestAbort';
  }
}

/** Longest message we decode; an abort message is a sentence, not a payload. */
const MAX_CHARS = 1024;

export function readAsString(memory: WebAssembly.Memory, ptr: number): string | null {
  ptr >>>= 0;
  if (ptr === 0) return null;
  const buf = memory.buffer;
  if (ptr < 4 || ptr > buf.byteLength) return null;
  const byteLen = new DataView(buf).getUint32(ptr - 4, true);
  if (byteLen % 2 !== 0 || ptr + byteLen > buf.byteLength) return null;
  const units = Math.min(byteLen / 2, MAX_CHARS);
  // A copy keeps the decoder off an unaligned view and off a buffer the guest may detach.
  const u16 = new Uint16Array(buf.slice(ptr, ptr + units * 2));
  let s = '';
  for (let i = 0; i < u16.length; i += 4096) s += String.fromCharCode(...u16.subarray(i, i + 4096));
  return s;
}

export function assemblyScriptImports(memory: () => WebAssembly.Memory | null): Record<string, (...args: never[]) => unknown> {
  return {
    abort: (msg: number, file: number, line: number, col: number) => {
      const mem = memory(); // null when a start function aborts before exports exist
      const text = (mem && readAsString(mem, msg)) ?? 'abort';
      const where = mem && readAsString(mem, file);
      throw new GuestAbort(where ? `${text} (${where}:${line >>> 0}:${col >>> 0})` : text);
    },
  };
}
