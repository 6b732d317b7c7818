// The LLM side of the contract: the flat request a pre_hook sees, responses (the provider's,
// wrapped in an envelope such as {"chat_response": {...}}), BifrostError-style errors, and the
// short-circuit a pre_hook returns instead of calling the provider.
import { JSON } from "json-as";
import { arrayAt, numberOf, objAt, objIn, quote, read } from "./values";

/** One fallback target, `{provider, model}`. */
@json
export class Fallback {
  provider: string = "";
  model: string = "";
}

/**
 * `{request_type, provider, model, input, params, fallbacks}`. `input` is free-form (for chat: the
 * messages array), `params` is an object. Setting a field, or reading `input`/`params` (which may
 * then be changed in place), makes the hook send the request back.
 */
export class LLMRequest {
  requestType: string = "chat_completion";
  private _provider: string = "";
  private _model: string = "";
  private _input: JSON.Value = JSON.Value.from<JSON.Arr>(new JSON.Arr());
  private _params: JSON.Obj = new JSON.Obj();
  private _fallbacks: Fallback[] = [];
  changed: bool = false;

  static fromObj(o: JSON.Obj): LLMRequest {
    const r = new LLMRequest();
    r.requestType = read<string>(o, "request_type", "chat_completion");
    r._provider = read<string>(o, "provider", "");
    r._model = read<string>(o, "model", "");
    const input = o.get("input");
    if (input !== null) {
      const arr = arrayAt(o, "input");
      r._input = arr !== null ? JSON.Value.from<JSON.Arr>(arr) : input;
    }
    const params = objAt(o, "params");
    if (params !== null) r._params = params;
    const fb = arrayAt(o, "fallbacks");
    if (fb !== null) {
      for (let i = 0; i < fb.length; i++) {
        const f = new Fallback();
        const v = fb.at(i);
        if (v.type == JSON.Types.String) {
          // "provider/model" as a string
          const s = v.get<string>();
          const slash = s.indexOf("/");
          f.provider = slash > 0 ? s.slice(0, slash) : "";
          f.model = slash > 0 ? s.slice(slash + 1) : s;
        } else {
          const fo = objIn(fb, i);
          if (fo === null) continue;
          f.provider = read<string>(fo, "provider", "");
          f.model = read<string>(fo, "model", "");
        }
        r._fallbacks.push(f);
      }
    }
    return r;
  }

  get provider(): string { return this._provider; }
  set provider(v: string) { this._provider = v; this.changed = true; }
  get model(): string { return this._model; }
  set model(v: string) { this._model = v; this.changed = true; }

  /** The input (chat: the messages array). Reading it marks the request as changed. */
  get input(): JSON.Value { this.changed = true; return this._input; }
  set input(v: JSON.Value) { this._input = v; this.changed = true; }
  /** The parameters (temperature, max_tokens, ...). Reading them marks the request as changed. */
  get params(): JSON.Obj { this.changed = true; return this._params; }
  set params(v: JSON.Obj) { this._params = v; this.changed = true; }
  get fallbacks(): Fallback[] { this.changed = true; return this._fallbacks; }
  set fallbacks(v: Fallback[]) { this._fallbacks = v; this.changed = true; }

  /** The chat messages (the input when it is an array of objects); read-only use does not mark a change. */
  messages(): JSON.Obj[] {
    const out = new Array<JSON.Obj>(0);
    if (this._input.type != JSON.Types.Array) return out;
    const items = this._input.get<JSON.Arr>();
    for (let i = 0; i < items.length; i++) {
      const m = objIn(items, i);
      if (m !== null) out.push(m);
    }
    return out;
  }

  /** The text of the last message with role "user" (string content, or the text parts joined), or null. */
  lastUserMessage(): string | null {
    const msgs = this.messages();
    for (let i = msgs.length - 1; i >= 0; i--) {
      if (read<string>(msgs[i], "role", "") == "user") return contentText(msgs[i]);
    }
    return null;
  }

  toJSON(): string {
    return '{"request_type":' + quote(this.requestType) + ',"provider":' + quote(this._provider) + ',"model":' + quote(this._model) +
      ',"input":' + JSON.stringify(this._input) + ',"params":' + JSON.stringify(this._params) + ',"fallbacks":' + JSON.stringify(this._fallbacks) + "}";
  }
}

/** The text of a message's `content`: a string, or the `text` of its parts joined; null otherwise. */
export function contentText(message: JSON.Obj): string | null {
  const v = message.get("content");
  if (v === null) return null;
  if (v.type == JSON.Types.String) return v.get<string>();
  if (v.type != JSON.Types.Array) return null;
  const parts = v.get<JSON.Arr>();
  let s = "";
  for (let i = 0; i < parts.length; i++) {
    const p = objIn(parts, i);
    if (p !== null) s += read<string>(p, "text", "");
  }
  return s;
}

@json
export class ChatMessage {
  role: string = "assistant";
  content: string = "";
}

@json
export class ChatChoice {
  index: i32 = 0;
  message: ChatMessage = new ChatMessage();
  finish_reason: string = "stop";
}

@json
export class Usage {
  prompt_tokens: i32 = 0;
  completion_tokens: i32 = 0;
  total_tokens: i32 = 0;
}

/** An OpenAI-style `chat.completion`, for answers a plugin makes itself. */
@json
export class ChatResponse {
  id: string = "";
  object: string = "chat.completion";
  created: i64 = 0;
  model: string = "";
  choices: ChatChoice[] = [];
  usage: Usage = new Usage();

  /** One assistant message with finish_reason "stop". */
  static text(model: string, content: string, id: string = "gatehouse-plugin"): ChatResponse {
    const r = new ChatResponse();
    r.id = id;
    r.model = model;
    const c = new ChatChoice();
    c.message.content = content;
    r.choices.push(c);
    return r;
  }
}

/**
 * A response as hooks see it: the envelope `{"<kind>": {...}}` where kind is `chat_response`,
 * `text_completion_response`, `embedding_response`, ... When streaming, post_hook sees one
 * `chat.completion.chunk` (with `delta` instead of `message`) per call.
 */
export class LLMResponse {
  constructor(public envelope: JSON.Obj) {}

  static chat(c: ChatResponse): LLMResponse {
    const o = new JSON.Obj();
    o.set<JSON.Obj>("chat_response", JSON.parse<JSON.Obj>(JSON.stringify(c)));
    return new LLMResponse(o);
  }

  /** The envelope's key, e.g. "chat_response" (the first key), or "". */
  get kind(): string {
    const k = this.envelope.keys();
    return k.length > 0 ? k[0] : "";
  }

  /** The inner object under the envelope's key, or null. */
  body(): JSON.Obj | null {
    const k = this.kind;
    return k == "" ? null : objAt(this.envelope, k);
  }

  /** True for one streamed chunk (`object` is "chat.completion.chunk"). */
  isChunk(): bool {
    const b = this.body();
    return b !== null && read<string>(b, "object", "") == "chat.completion.chunk";
  }

  /** The text of the first choice (message.content, or delta.content for a chunk), or null. */
  content(): string | null {
    const m = this.firstMessage();
    if (m === null) return null;
    return contentText(m);
  }

  /** Replaces the text of the first choice. Returns false when there is no such choice. */
  setContent(text: string): bool {
    const m = this.firstMessage();
    if (m === null) return false;
    m.set<string>("content", text);
    return true;
  }

  private firstMessage(): JSON.Obj | null {
    const b = this.body();
    if (b === null) return null;
    const choices = arrayAt(b, "choices");
    if (choices === null) return null;
    const c = objIn(choices, 0);
    if (c === null) return null;
    const m = objAt(c, "message");
    return m !== null ? m : objAt(c, "delta");
  }

  toJSON(): string {
    return JSON.stringify(this.envelope);
  }
}

/** The `error` member of an LLMError. */
@json
export class ErrorField {
  message: string = "";
  type: string = "";
  code: string = "";
}

/** BifrostError: `{"status_code": 429, "error": {"message", "type", "code"}, "allow_fallbacks": false}`. */
@json
export class LLMError {
  status_code: i32 = 500;
  error: ErrorField = new ErrorField();
  allow_fallbacks: bool = true;

  static create(status: i32, type: string, message: string, allowFallbacks: bool = true): LLMError {
    const e = new LLMError();
    e.status_code = status;
    e.error.type = type;
    e.error.message = message;
    e.error.code = status.toString();
    e.allow_fallbacks = allowFallbacks;
    return e;
  }

  static fromObj(o: JSON.Obj): LLMError {
    const e = new LLMError();
    const s = o.get("status_code");
    if (s !== null) { const n = numberOf(s); if (!isNaN(n)) e.status_code = <i32>n; }
    const inner = objAt(o, "error");
    if (inner !== null) {
      e.error.message = read<string>(inner, "message", "");
      e.error.type = read<string>(inner, "type", "");
      const code = inner.get("code");
      if (code !== null) {
        if (code.type == JSON.Types.String) e.error.code = code.get<string>();
        else { const n = numberOf(code); if (!isNaN(n)) e.error.code = (<i64>n).toString(); }
      }
    }
    e.allow_fallbacks = read<bool>(o, "allow_fallbacks", true);
    return e;
  }

  get message(): string { return this.error.message; }
  get type(): string { return this.error.type; }

  toJSON(): string {
    return JSON.stringify<LLMError>(this);
  }
}

/** What a pre_hook returns to answer without calling the provider: a response or an error. */
export class ShortCircuit {
  constructor(public response: LLMResponse | null, public error: LLMError | null) {}

  toJSON(): string {
    const r = this.response;
    if (r !== null) return '{"response":' + r.toJSON() + "}";
    const e = this.error;
    return '{"error":' + (e !== null ? e.toJSON() : "{}") + "}";
  }
}

/** Builders for ShortCircuit: `shortCircuit.error(429, "rate_limit", "slow down")`. */
export namespace shortCircuit {
  /** An error answer. Fallbacks are not tried unless `allowFallbacks` is true. */
  export function error(status: i32, type: string, message: string, allowFallbacks: bool = false): ShortCircuit {
    return new ShortCircuit(null, LLMError.create(status, type, message, allowFallbacks));
  }
  /** An error answer from an LLMError as given. */
  export function withError(e: LLMError): ShortCircuit {
    return new ShortCircuit(null, e);
  }
  /** A chat answer with one assistant message. */
  export function reply(model: string, content: string): ShortCircuit {
    return new ShortCircuit(LLMResponse.chat(ChatResponse.text(model, content)), null);
  }
  /** A full chat response. */
  export function chat(c: ChatResponse): ShortCircuit {
    return new ShortCircuit(LLMResponse.chat(c), null);
  }
  /** A response envelope as is (for other response kinds). */
  export function response(r: LLMResponse): ShortCircuit {
    return new ShortCircuit(r, null);
  }
}

/**
 * What a post_hook returns when it changes the outcome; return null to leave it as it is.
 * The gateway's rule: if an error remains, it wins; with no error, the response is sent.
 */
export class PostResult {
  constructor(public response: LLMResponse | null, public error: LLMError | null) {}

  /** Turns an error (or a response) into this response. */
  static recover(r: LLMResponse): PostResult {
    return new PostResult(r, null);
  }
  /** Turns the outcome into this error. */
  static fail(e: LLMError): PostResult {
    return new PostResult(null, e);
  }
  /** Sends the (changed in place) response on. */
  static keep(r: LLMResponse): PostResult {
    return new PostResult(r, null);
  }
}

/**
 * One stream event (for chat: a `chat.completion.chunk`) as the free-form object it is, with
 * helpers for the usual first-choice delta.
 */
export class StreamChunk {
  constructor(public obj: JSON.Obj) {}

  private delta(): JSON.Obj | null {
    const choices = arrayAt(this.obj, "choices");
    if (choices === null) return null;
    const c = objIn(choices, 0);
    return c === null ? null : objAt(c, "delta");
  }

  /** `choices[0].delta.content`, or null. */
  content(): string | null {
    const d = this.delta();
    if (d === null) return null;
    const v = d.get("content");
    return v !== null && v.type == JSON.Types.String ? v.get<string>() : null;
  }

  /** Replaces `choices[0].delta.content`; false when the chunk has no delta. */
  setContent(text: string): bool {
    const d = this.delta();
    if (d === null) return false;
    d.set<string>("content", text);
    return true;
  }

  /** `choices[0].finish_reason`, or null. */
  finishReason(): string | null {
    const choices = arrayAt(this.obj, "choices");
    if (choices === null) return null;
    const c = objIn(choices, 0);
    if (c === null) return null;
    const v = c.get("finish_reason");
    return v !== null && v.type == JSON.Types.String ? v.get<string>() : null;
  }

  toJSON(): string {
    return JSON.stringify(this.obj);
  }
}
