/**
 * A record's key/value pairs as one flat array, and the check that a record still holds exactly
 * those pairs in that order. Hosts that serialise the same object for several hooks keep its text
 * while the check passes: reading every value is cheaper than serialising again, and it also sees
 * writes that bypassed any setter.
 */

/** Appends `m`'s pairs to `flat` (key, value, key, value, ...); returns the new length. */
export function pushEntries(flat: unknown[], m: Record<string, unknown>): number {
  for (const k in m) flat.push(k, m[k]);
  return flat.length;
}

/** True when `m` holds exactly the pairs `flat[from..to)`, in the same order. */
export function sameEntries(m: Record<string, unknown>, flat: readonly unknown[], from: number, to: number): boolean {
  let i = from;
  for (const k in m) {
    if (i >= to || flat[i] !== k || flat[i + 1] !== m[k]) return false;
    i += 2;
  }
  return i === to;
}
