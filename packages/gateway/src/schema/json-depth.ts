/**
 * True when `v` nests objects/arrays more than `left` levels deep (`{}` is one level). Recursion
 * stops at the limit, so the stack stays shallow whatever the input; strings and numbers are
 * leaves, so the cost is the number of containers and their slots, not the body's bytes.
 */
export function deeperThan(v: object, left: number): boolean {
  if (left === 0) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === 'object' && x !== null && deeperThan(x, left - 1)) return true;
    }
    return false;
  }
  for (const k in v) {
    const x: unknown = (v as Record<string, unknown>)[k];
    if (typeof x === 'object' && x !== null && deeperThan(x, left - 1)) return true;
  }
  return false;
}
