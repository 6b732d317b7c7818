// The binary side of the plugin interface: the allocator the host calls, the packed i64 that a hook
// returns, and UTF-8 in and out. Every block handed to the host comes from `heap.alloc`, which the
// AssemblyScript runtime (any of stub, minimal, incremental) serves from its own heap without
// tracking it for the GC; the host gives it back through `free`, so nothing is kept between calls.

/** `malloc(size) -> ptr`: a block of `size` bytes the host writes a hook's input into. */
export function malloc(size: u32): u32 {
  return <u32>heap.alloc(<usize>(size == 0 ? 1 : size));
}

/** `free(ptr)`: returns a block from `malloc` or a hook's output to the heap. */
export function free(ptr: u32): void {
  if (ptr != 0) heap.free(<usize>ptr);
}

/** `ptr << 32 | len`, the return value of every hook. */
export function pack(ptr: usize, len: usize): u64 {
  return ((<u64>ptr) << 32) | (<u64>len & 0xffffffff);
}

/** Reads the host's input block as a string (the host frees the block after the call). */
export function readInput(ptr: u32, len: u32): string {
  return String.UTF8.decodeUnsafe(<usize>ptr, <usize>len);
}

/** Copies `s` as UTF-8 into a fresh `heap.alloc` block and returns it packed; the host frees it. */
export function writeOutput(s: string): u64 {
  const n = <usize>String.UTF8.byteLength(s);
  const p = heap.alloc(n == 0 ? 1 : n);
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, p);
  return pack(p, n);
}

let nameOut: u64 = 0;

/**
 * The value for `get_name`: the name as raw UTF-8 (not JSON). Hosts do not free it, so the block
 * is made once and kept.
 */
export function name(n: string): u64 {
  if (nameOut == 0) nameOut = writeOutput(n);
  return nameOut;
}
