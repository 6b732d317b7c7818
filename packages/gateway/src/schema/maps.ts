/**
 * Maps whose keys come from outside (a client's headers and query, a plugin's context): without a
 * prototype, so a key named `__proto__` is plain data rather than a prototype swap, and a lookup
 * of `toString` or `constructor` finds nothing instead of Object.prototype's functions.
 */
export function emptyMap<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** A prototype-free copy of `from`'s own enumerable keys. */
export function mapOf<T>(from: Readonly<Record<string, T>>): Record<string, T> {
  const out = emptyMap<T>();
  for (const k of Object.keys(from)) out[k] = from[k] as T;
  return out;
}
