import { pushEntries, sameEntries } from './entries.js';
import { emptyMap } from './maps.js';

/** Keys the gateway owns in every request context; plugin writes to them are dropped. */
export const RESERVED_PREFIX = 'gatehouse.';
export const REQUEST_ID_KEY = 'request_id';

export function isReservedKey(key: string): boolean {
  return key === REQUEST_ID_KEY || key.startsWith(RESERVED_PREFIX);
}

/**
 * The per-request context: one JSON object shared by every hook of every plugin, in order.
 * The gateway writes through `setReserved`; plugins through `setValue`, which ignores reserved keys.
 */
export class RequestContext {
  readonly values: Record<string, unknown>;
  // JSON text cache for hosts that serialise the context per hook (WASM: twice per stream event).
  #json: string | undefined;
  #entries: unknown[] = [];

  constructor(requestId: string) {
    // No prototype: a plugin's `__proto__` key is data, and a reserved key cannot be inherited.
    this.values = emptyMap<unknown>();
    this.values[REQUEST_ID_KEY] = requestId;
  }

  get requestId(): string {
    return this.values[REQUEST_ID_KEY] as string;
  }

  value(key: string): unknown {
    return this.values[key];
  }

  /** Plugin-facing write. Returns false when the key is reserved and the write was dropped. */
  setValue(key: string, value: unknown): boolean {
    if (isReservedKey(key)) return false;
    this.values[key] = value;
    return true;
  }

  setReserved(key: string, value: unknown): void {
    this.values[key] = value;
  }

  /**
   * Applies a context object returned by a plugin: a returned key sets its value, a key left out
   * is kept, a key returned as `null` is removed. So the documents' pass-through `"context": {}`
   * changes nothing, and no plugin erases another's values by leaving them out. Writes to reserved
   * keys are dropped.
   */
  merge(next: unknown): void {
    if (typeof next !== 'object' || next === null || Array.isArray(next)) return;
    const obj = next as Record<string, unknown>;
    const values = this.values;
    for (const k in obj) {
      if (isReservedKey(k)) continue;
      const v = obj[k];
      if (v === null) delete values[k];
      else values[k] = v;
    }
  }

  toJSON(): Record<string, unknown> {
    return this.values;
  }

  /**
   * `JSON.stringify(values)`, reused while the values are the same primitives in the same order.
   * The check reads every value (cheaper than serialising), so even a direct write to `values` is
   * seen; a context holding an object is never cached, since it could change in place.
   */
  toJsonText(): string {
    const values = this.values;
    const entries = this.#entries;
    if (this.#json !== undefined && sameEntries(values, entries, 0, entries.length)) return this.#json;
    const json = JSON.stringify(values);
    const fresh: unknown[] = (this.#entries = []);
    pushEntries(fresh, values);
    let cacheable = true;
    for (let i = 1; i < fresh.length; i += 2) {
      const v = fresh[i];
      if (typeof v === 'object' && v !== null) { cacheable = false; break; }
    }
    this.#json = cacheable ? json : undefined;
    return json;
  }
}
