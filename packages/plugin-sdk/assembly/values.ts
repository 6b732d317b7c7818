// Type-checked reads from json-as's dynamic JSON.Obj: a key that is absent, null or of another type
// gives the caller's default instead of a trap. Context and Config are both such maps.
import { JSON } from "json-as";

/** A JSON number of any stored width as f64; NaN when the value is not a number. */
export function numberOf(v: JSON.Value): f64 {
  switch (v.type) {
    case JSON.Types.F64: return v.get<f64>();
    case JSON.Types.F32: return <f64>v.get<f32>();
    case JSON.Types.I8: return <f64>v.get<i8>();
    case JSON.Types.I16: return <f64>v.get<i16>();
    case JSON.Types.I32: return <f64>v.get<i32>();
    case JSON.Types.I64: return <f64>v.get<i64>();
    case JSON.Types.U8: return <f64>v.get<u8>();
    case JSON.Types.U16: return <f64>v.get<u16>();
    case JSON.Types.U32: return <f64>v.get<u32>();
    case JSON.Types.U64: return <f64>v.get<u64>();
    default: return NaN;
  }
}

/** `o[key]` as `T` when it has that type, else `dflt`. T: string, bool, any number type, JSON.Obj, JSON.Arr, JSON.Value. */
export function read<T>(o: JSON.Obj, key: string, dflt: T): T {
  const v = o.get(key);
  if (v === null) return dflt;
  return valueAs<T>(v, dflt);
}

/** `v` as `T` when it has that type, else `dflt`. */
export function valueAs<T>(v: JSON.Value, dflt: T): T {
  const t = v.type;
  if (isString<T>()) {
    // @ts-ignore: T is string here
    return t == JSON.Types.String ? v.get<string>() : dflt;
  } else if (isBoolean<T>()) {
    // @ts-ignore: T is bool here
    return t == JSON.Types.Bool ? v.get<bool>() : dflt;
  } else if (isInteger<T>() || isFloat<T>()) {
    const n = numberOf(v);
    // @ts-ignore: T is a number type here
    return isNaN(n) ? dflt : <T>n;
  } else if (idof<nonnull<T>>() == idof<JSON.Obj>()) {
    // @ts-ignore: T is JSON.Obj here
    return t == JSON.Types.Object ? changetype<T>(v.get<JSON.Obj>()) : dflt;
  } else if (idof<nonnull<T>>() == idof<JSON.Arr>()) {
    // @ts-ignore: T is JSON.Arr here
    return t == JSON.Types.Array ? changetype<T>(v.get<JSON.Arr>()) : dflt;
  } else if (idof<nonnull<T>>() == idof<JSON.Value>()) {
    return changetype<T>(v);
  }
  ERROR("read<T>: T must be string, bool, a number type, JSON.Obj, JSON.Arr or JSON.Value");
  return dflt;
}

/** A string-keyed JSON object with typed, defaulted reads: the base of Context and Config. */
export class JsonMap {
  constructor(public obj: JSON.Obj) {}

  has(key: string): bool {
    return this.obj.has(key);
  }

  /** The value under `key` when it has the type of `dflt`, else `dflt`: `get("n", 0)`, `get("s", "")`. */
  get<T>(key: string, dflt: T): T {
    return read<T>(this.obj, key, dflt);
  }

  getString(key: string, dflt: string = ""): string {
    return read<string>(this.obj, key, dflt);
  }

  getNumber(key: string, dflt: f64 = 0): f64 {
    return read<f64>(this.obj, key, dflt);
  }

  getBool(key: string, dflt: bool = false): bool {
    return read<bool>(this.obj, key, dflt);
  }

  /** The strings of an array value (other items are skipped); empty when absent. */
  getStrings(key: string): string[] {
    const out = new Array<string>(0);
    const v = this.obj.get(key);
    if (v === null || v.type != JSON.Types.Array) return out;
    const items = v.get<JSON.Arr>();
    for (let i = 0; i < items.length; i++) {
      const item = items.at(i);
      if (item.type == JSON.Types.String) out.push(item.get<string>());
    }
    return out;
  }

  /** Any value: string, bool, numbers, JSON.Obj, JSON.Value, or a @json class instance. */
  set<T>(key: string, value: T): void {
    this.obj.set<T>(key, value);
  }

  keys(): string[] {
    return this.obj.keys();
  }

  toJSON(): string {
    return JSON.stringify(this.obj);
  }
}

/** The per-request context (one JSON object, shared by every hook of every plugin). */
export class Context extends JsonMap {
  /** The gateway's id of this request (`request_id`), or "" if the host set none. */
  get requestId(): string {
    return this.getString("request_id");
  }

  /** Removes `key` from the request's context: it is sent back as `null`, which the host removes. */
  remove(key: string): void {
    this.obj.set<JSON.Value>(key, JSON.Value.empty());
  }
}

/** The entry's `config` object, as given to `init`. */
export class Config extends JsonMap {}

/**
 * The JSON.Obj under `key` of `o`, or null. The object is stored back into `o`, so changes made
 * to it show when `o` is serialized (json-as hands out detached copies of not-yet-parsed values).
 */
export function objAt(o: JSON.Obj, key: string): JSON.Obj | null {
  const v = o.get(key);
  if (v === null || v.type != JSON.Types.Object) return null;
  const x = v.get<JSON.Obj>();
  o.set<JSON.Obj>(key, x);
  return x;
}

/** The array under `key` of `o`, or null; stored back like `objAt`. */
export function arrayAt(o: JSON.Obj, key: string): JSON.Arr | null {
  const v = o.get(key);
  if (v === null || v.type != JSON.Types.Array) return null;
  const x = v.get<JSON.Arr>();
  o.set<JSON.Arr>(key, x);
  return x;
}

/** Item `i` of an array as a JSON.Obj, or null; stored back like `objAt`. */
export function objIn(items: JSON.Arr, i: i32): JSON.Obj | null {
  if (i < 0 || i >= items.length) return null;
  const v = items.at(i);
  if (v.type != JSON.Types.Object) return null;
  const x = v.get<JSON.Obj>();
  items.set<JSON.Obj>(i, x);
  return x;
}

/** A JSON string literal for `s` (quotes and escapes). */
export function quote(s: string): string {
  return JSON.stringify<string>(s);
}
