// HTTP requests and responses as the contract writes them: string maps for headers and query
// (keys in their original case), bodies as base64 (null = no body). Changes are recorded, so a
// hook sends back only what it changed: a set key with its value, a removed key as null.
import { JSON } from "json-as";
import { base64 } from "./base64";
import { numberOf, quote } from "./values";

/** A string-to-string map (headers, query) that records changes. Header maps match names case-insensitively. */
export class StrMap {
  private names: string[] = [];
  private vals: string[] = [];
  private changes: Map<string, string | null> = new Map<string, string | null>();
  private order: string[] = [];

  constructor(public readonly caseInsensitive: bool = true) {}

  /** Builds the map from a JSON object (non-string values are skipped). */
  static from(o: JSON.Obj | null, caseInsensitive: bool): StrMap {
    const m = new StrMap(caseInsensitive);
    if (o === null) return m;
    const keys = o.keys();
    const values = o.values();
    for (let i = 0; i < keys.length; i++) {
      if (values[i].type == JSON.Types.String) {
        m.names.push(keys[i]);
        m.vals.push(values[i].get<string>());
      }
    }
    return m;
  }

  private indexOf(name: string): i32 {
    if (!this.caseInsensitive) return this.names.indexOf(name);
    const lower = name.toLowerCase();
    for (let i = 0; i < this.names.length; i++) {
      const n = this.names[i];
      if (n == name || n.toLowerCase() == lower) return i;
    }
    return -1;
  }

  private record(name: string, value: string | null): void {
    if (!this.changes.has(name)) this.order.push(name);
    this.changes.set(name, value);
  }

  /** The value of `name` (case-insensitive for headers), or null. */
  get(name: string): string | null {
    const i = this.indexOf(name);
    return i < 0 ? null : this.vals[i];
  }

  has(name: string): bool {
    return this.indexOf(name) >= 0;
  }

  /** Sets `name`, replacing any case variant of it. */
  set(name: string, value: string): void {
    let i = this.indexOf(name);
    while (i >= 0 && this.names[i] != name) {
      this.record(this.names[i], null); // a variant in another case goes away
      this.names.splice(i, 1);
      this.vals.splice(i, 1);
      i = this.indexOf(name);
    }
    if (i >= 0) {
      if (this.vals[i] == value) return;
      this.vals[i] = value;
    } else {
      this.names.push(name);
      this.vals.push(value);
    }
    this.record(name, value);
  }

  /** Removes `name` (every case variant, for headers). */
  remove(name: string): void {
    let i = this.indexOf(name);
    while (i >= 0) {
      this.record(this.names[i], null);
      this.names.splice(i, 1);
      this.vals.splice(i, 1);
      i = this.indexOf(name);
    }
  }

  keys(): string[] {
    return this.names.slice(0);
  }

  get size(): i32 {
    return this.names.length;
  }

  get changed(): bool {
    return this.order.length > 0;
  }

  /** The whole map as a JSON object. */
  toJSON(): string {
    let s = "{";
    for (let i = 0; i < this.names.length; i++) {
      if (i > 0) s += ",";
      s += quote(this.names[i]) + ":" + quote(this.vals[i]);
    }
    return s + "}";
  }

  /** Only the changes: set keys with their values, removed keys as null. */
  changesJSON(): string {
    let s = "{";
    for (let i = 0; i < this.order.length; i++) {
      const k = this.order[i];
      const v = this.changes.get(k);
      if (i > 0) s += ",";
      s += quote(k) + ":" + (v === null ? "null" : quote(v));
    }
    return s + "}";
  }
}

/** Shared body handling: base64 on the wire, text or bytes for the plugin. */
export class HasBody {
  /** The body as base64, or null for no body. Prefer the helpers below. */
  body: string | null = null;
  bodyChanged: bool = false;

  /** The body decoded as UTF-8 text, or null when there is none. */
  bodyText(): string | null {
    const b = this.body;
    return b === null ? null : base64.decodeText(b);
  }

  /** The body as bytes, or null. */
  bodyBytes(): Uint8Array | null {
    const b = this.body;
    return b === null ? null : base64.decode(b);
  }

  /** The body parsed as a JSON object, or null when there is none or it is not an object. */
  bodyJson(): JSON.Obj | null {
    const t = this.bodyText();
    if (t === null) return null;
    const v = JSON.parse<JSON.Value>(t);
    return v.type == JSON.Types.Object ? v.get<JSON.Obj>() : null;
  }

  setBodyText(text: string): void {
    this.body = base64.encodeText(text);
    this.bodyChanged = true;
  }

  setBodyBytes(bytes: Uint8Array): void {
    this.body = base64.encode(bytes);
    this.bodyChanged = true;
  }

  /** Sets the body to base64 text as is. */
  setBodyBase64(b64: string | null): void {
    this.body = b64;
    this.bodyChanged = true;
  }
}

/** `{method, path, headers, query, path_params, body}`. */
export class HttpRequest extends HasBody {
  method: string = "GET";
  path: string = "/";
  headers: StrMap = new StrMap(true);
  query: StrMap = new StrMap(false);
  pathParams: StrMap = new StrMap(false);

  static fromObj(o: JSON.Obj): HttpRequest {
    const r = new HttpRequest();
    r.method = readStr(o, "method", "GET");
    r.path = readStr(o, "path", "/");
    r.headers = StrMap.from(objOrNull(o, "headers"), true);
    r.query = StrMap.from(objOrNull(o, "query"), false);
    r.pathParams = StrMap.from(objOrNull(o, "path_params"), false);
    r.body = strOrNull(o, "body");
    return r;
  }

  /** A request header, looked up case-insensitively: `req.header("X-Api-Key")`. */
  header(name: string): string | null {
    return this.headers.get(name);
  }

  setHeader(name: string, value: string): void {
    this.headers.set(name, value);
  }

  removeHeader(name: string): void {
    this.headers.remove(name);
  }

  /** The full request as JSON. */
  toJSON(): string {
    return '{"method":' + quote(this.method) + ',"path":' + quote(this.path) + ',"headers":' + this.headers.toJSON() +
      ',"query":' + this.query.toJSON() + ',"path_params":' + this.pathParams.toJSON() + ',"body":' + bodyJSON(this.body) + "}";
  }

  /** What the hook changed (headers, query, body), or null when nothing changed. */
  changesJSON(): string | null {
    if (!this.headers.changed && !this.query.changed && !this.bodyChanged) return null;
    let s = "{";
    let sep = "";
    if (this.headers.changed) { s += '"headers":' + this.headers.changesJSON(); sep = ","; }
    if (this.query.changed) { s += sep + '"query":' + this.query.changesJSON(); sep = ","; }
    if (this.bodyChanged && this.body !== null) s += sep + '"body":' + bodyJSON(this.body);
    return s + "}";
  }
}

/** `{status_code, headers, body}`. Build one with `HttpResponse.text(...)` / `HttpResponse.json(...)`. */
export class HttpResponse extends HasBody {
  private _status: i32 = 200;
  statusChanged: bool = false;
  headers: StrMap = new StrMap(true);

  constructor(status: i32 = 200) {
    super();
    this._status = status;
  }

  get status(): i32 {
    return this._status;
  }

  set status(code: i32) {
    if (code != this._status) this.statusChanged = true;
    this._status = code;
  }

  static fromObj(o: JSON.Obj): HttpResponse {
    const r = new HttpResponse(<i32>readNum(o, "status_code", 200));
    r.headers = StrMap.from(objOrNull(o, "headers"), true);
    r.body = strOrNull(o, "body");
    return r;
  }

  /** A response with a text body and a content type. */
  static text(status: i32, text: string, contentType: string = "text/plain; charset=utf-8"): HttpResponse {
    const r = new HttpResponse(status);
    r.headers.set("content-type", contentType);
    r.setBodyText(text);
    return r;
  }

  /** A response whose body is the given JSON text. */
  static json(status: i32, json: string): HttpResponse {
    return HttpResponse.text(status, json, "application/json");
  }

  header(name: string): string | null {
    return this.headers.get(name);
  }

  setHeader(name: string, value: string): void {
    this.headers.set(name, value);
  }

  removeHeader(name: string): void {
    this.headers.remove(name);
  }

  toJSON(): string {
    return '{"status_code":' + this._status.toString() + ',"headers":' + this.headers.toJSON() + ',"body":' + bodyJSON(this.body) + "}";
  }

  /** What changed (status, headers, body), or null. */
  changesJSON(): string | null {
    if (!this.statusChanged && !this.headers.changed && !this.bodyChanged) return null;
    let s = "{";
    let sep = "";
    if (this.statusChanged) { s += '"status_code":' + this._status.toString(); sep = ","; }
    if (this.headers.changed) { s += sep + '"headers":' + this.headers.changesJSON(); sep = ","; }
    if (this.bodyChanged && this.body !== null) s += sep + '"body":' + bodyJSON(this.body);
    return s + "}";
  }
}

function bodyJSON(b: string | null): string {
  return b === null ? "null" : quote(b);
}

function readStr(o: JSON.Obj, key: string, dflt: string): string {
  const v = o.get(key);
  return v !== null && v.type == JSON.Types.String ? v.get<string>() : dflt;
}

function strOrNull(o: JSON.Obj, key: string): string | null {
  const v = o.get(key);
  return v !== null && v.type == JSON.Types.String ? v.get<string>() : null;
}

function readNum(o: JSON.Obj, key: string, dflt: f64): f64 {
  const v = o.get(key);
  if (v === null) return dflt;
  const n = numberOf(v);
  return isNaN(n) ? dflt : n;
}

function objOrNull(o: JSON.Obj, key: string): JSON.Obj | null {
  const v = o.get(key);
  return v !== null && v.type == JSON.Types.Object ? v.get<JSON.Obj>() : null;
}
