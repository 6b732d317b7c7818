/**
 * The only code that reads or writes guest linear memory. Everything the guest hands back (a
 * pointer, a length) is untrusted: pointers are unsigned (`>>> 0`, so addresses past 2 GiB are not
 * negative), ranges are checked against the *current* buffer (a call may have grown, and so
 * detached, the old one), and nothing is clamped: `subarray` would silently shorten a bad range.
 */

/** The plugin broke the binary interface (bad pointer, bad length, bad UTF-8). A plugin failure. */
export class AbiViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AbiViolation';
  }
}

const encoder = new TextEncoder();
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Upper 32 bits: pointer; lower 32 bits: length (contract 3.2). */
export function packedPtr(r: bigint): number {
  return Number(BigInt.asUintN(64, r) >> 32n);
}
export function packedLen(r: bigint): number {
  return Number(BigInt.asUintN(32, r));
}

export class GuestMemory {
  constructor(private readonly memory: WebAssembly.Memory) {}

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** A view of `[ptr, ptr + len)`, or an AbiViolation naming `what` when it is not inside memory. */
  view(ptr: number, len: number, what: string): Uint8Array {
    const buf = this.memory.buffer;
    ptr >>>= 0;
    len >>>= 0;
    if (ptr + len > buf.byteLength) {
      throw new AbiViolation(`${what} [${ptr}, +${len}) is outside linear memory (${buf.byteLength} bytes)`);
    }
    return new Uint8Array(buf, ptr, len);
  }

  /** The bounds check of `view` without making one. */
  check(ptr: number, len: number, what: string): void {
    const size = this.memory.buffer.byteLength;
    if ((ptr >>> 0) + (len >>> 0) > size) throw new AbiViolation(`${what} [${ptr >>> 0}, +${len >>> 0}) is outside linear memory (${size} bytes)`);
  }

  /**
   * Encodes `str` straight into the `room` bytes at `ptr` (no intermediate copy) and returns the
   * bytes written; `room` must hold the whole encoding.
   */
  writeUtf8(ptr: number, str: string, room: number): number {
    return encoder.encodeInto(str, this.view(ptr, room, 'allocated block')).written;
  }

  write(ptr: number, bytes: Uint8Array): void {
    this.view(ptr, bytes.length, 'allocated block').set(bytes);
  }

  readUtf8(ptr: number, len: number, what: string): string {
    const v = this.view(ptr, len, what);
    try {
      return utf8.decode(v);
    } catch {
      throw new AbiViolation(`${what} is not valid UTF-8`);
    }
  }
}

/** UTF-8 for bytes that did not come from a guest (the worker channel): same strictness. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new AbiViolation(`${what} is not valid UTF-8`);
  }
}
