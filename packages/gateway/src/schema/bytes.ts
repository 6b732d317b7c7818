/**
 * Binary data inside hook JSON (uploaded audio, generated speech). Native hooks see plain bytes;
 * `JSON.stringify` (the WASM hooks' input) writes standard base64, so the encoding is paid only
 * when a WASM hook actually reads the value, never when no hook does.
 */
export class JsonBytes extends Uint8Array<ArrayBufferLike> {
  toJSON(): string {
    return Buffer.from(this.buffer, this.byteOffset, this.byteLength).toString('base64');
  }

  /** A view over `bytes` (no copy). */
  static wrap(bytes: Uint8Array): JsonBytes {
    return bytes instanceof JsonBytes ? bytes : new JsonBytes(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * What a hook handed back: bytes stay bytes, a string is read as base64 (what a WASM hook
   * returns). Anything else is not binary data.
   */
  static read(x: unknown): JsonBytes | undefined {
    if (x instanceof Uint8Array) return JsonBytes.wrap(x);
    if (typeof x === 'string') return JsonBytes.wrap(Buffer.from(x, 'base64'));
    return undefined;
  }
}

export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
