/**
 * One exchange across the binary interface (contract 3.2): malloc, copy in, call, unpack the i64,
 * read out, free both blocks with the arity the module declared. Knows nothing of hooks' JSON.
 */
import { AbiViolation, GuestMemory, packedLen, packedPtr } from './memory.js';
import type { AbiShape } from './validate.js';

type Fn = (...args: number[]) => unknown;

export class GuestAbi {
  readonly memory: GuestMemory;
  private readonly malloc: Fn;
  private readonly free: Fn | null;
  private readonly freeArity: number;
  private readonly exports: WebAssembly.Exports;
  /** Set once `malloc` has handed out address 0 for a non-empty block. */
  mallocReturnedZero = false;

  constructor(exports: WebAssembly.Exports, shape: AbiShape) {
    this.exports = exports;
    this.memory = new GuestMemory(exports.memory as WebAssembly.Memory);
    this.malloc = exports[shape.malloc] as Fn;
    this.free = shape.free ? (exports[shape.free.name] as Fn) : null;
    this.freeArity = shape.free?.arity ?? 0;
  }

  fn(name: string): Fn {
    return this.exports[name] as Fn;
  }

  /** Calls a `(ptr, len) -> i64` export with `str` as UTF-8; returns the output text or null (no change). */
  callText(name: string, str: string): string | null {
    // Exactly `malloc(len)` (contract 3.2): a guest may take ownership of the block at that size.
    const len = Buffer.byteLength(str, 'utf8');
    const inPtr = this.alloc(len);
    this.memory.writeUtf8(inPtr, str, len);
    const r = this.fn(name)(inPtr, len) as bigint;
    let out: string | null = null;
    if (r !== 0n) {
      const outPtr = packedPtr(r);
      const outLen = packedLen(r);
      if (outLen !== 0) {
        out = this.memory.readUtf8(outPtr, outLen, `${name} output`);
        if (outPtr !== inPtr) this.release(outPtr, outLen);
      }
    }
    this.release(inPtr, len);
    return out;
  }

  /**
   * The same exchange with bytes in and a callback for the output bytes (the worker copies them
   * into its shared channel without making a string). `sink` receives a view that is only valid
   * during the callback. Returns false for "no change".
   */
  callBytes(name: string, input: Uint8Array, sink: (out: Uint8Array) => void): boolean {
    const inPtr = this.alloc(input.length);
    this.memory.write(inPtr, input);
    const r = this.fn(name)(inPtr, input.length) as bigint;
    let changed = false;
    if (r !== 0n) {
      const outPtr = packedPtr(r);
      const outLen = packedLen(r);
      if (outLen !== 0) {
        sink(this.memory.view(outPtr, outLen, `${name} output`));
        changed = true;
        if (outPtr !== inPtr) this.release(outPtr, outLen);
      }
    }
    this.release(inPtr, input.length);
    return changed;
  }

  /** `init(config_ptr, config_len) -> i32`. */
  callInit(configJson: string): number {
    // No config at all: nothing to allocate, `init(0, 0)`.
    if (configJson === '') return this.fn('init')(0, 0) as number;
    const len = Buffer.byteLength(configJson, 'utf8');
    const ptr = this.alloc(len);
    this.memory.writeUtf8(ptr, configJson, len);
    const rc = this.fn('init')(ptr, len) as number;
    this.release(ptr, len);
    return rc;
  }

  /** `get_name() -> i64`: raw UTF-8, not JSON. Not freed: a name is usually static data. */
  getName(): string | null {
    const r = this.fn('get_name')() as bigint;
    const len = packedLen(r);
    if (r === 0n || len === 0) return null;
    return this.memory.readUtf8(packedPtr(r), len, 'get_name output');
  }

  private alloc(len: number): number {
    const ptr = (this.malloc(len) as number) >>> 0;
    // Address 0 is valid linear memory (the documents' own bump allocator starts there); it is
    // noted for `plugin inspect`/`test`, which warn that such an allocator overwrites static data.
    if (ptr === 0 && len > 0) this.mallocReturnedZero = true;
    this.memory.check(ptr, len, `malloc(${len}) result`);
    return ptr;
  }

  private release(ptr: number, len: number): void {
    if (!this.free || ptr === 0) return;
    if (this.freeArity === 2) this.free(ptr, len);
    else this.free(ptr);
  }
}
