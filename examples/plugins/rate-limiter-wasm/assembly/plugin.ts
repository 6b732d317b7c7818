// rate-limiter-wasm: a token bucket per client key. http_pre_hook reads the key from a request
// header; pre_hook takes one token, or short-circuits with 429 and allow_fallbacks: false;
// http_post_hook adds x-ratelimit-remaining, and retry-after to a 429.
import * as sdk from "@gatehouse/plugin-sdk";
import { Config, Context, HttpRequest, HttpResponse, LLMRequest, ShortCircuit, shortCircuit } from "@gatehouse/plugin-sdk";
import { malloc, free } from "@gatehouse/plugin-sdk";
export { malloc, free };

// Settings from `init` (the entry's `config`).
let capacity: f64 = 10;
let refillPerSecond: f64 = 1;
let keyHeader = "x-api-key";
let maxKeys: i32 = 10000;

class Bucket {
  constructor(public tokens: f64, public updated: f64) {}
}
// Module globals live as long as the instance: one map of buckets per instance.
const buckets = new Map<string, Bucket>();

const KEY = "ratelimit.key";
const DECISION = "ratelimit.decision"; // "allow" / "deny", so a fallback attempt is not charged twice
const REMAINING = "ratelimit.remaining";
const RETRY_AFTER = "ratelimit.retry_after";

export function get_name(): u64 {
  return sdk.name("rate-limiter-wasm");
}

function onInit(cfg: Config): bool {
  capacity = cfg.getNumber("capacity", capacity);
  refillPerSecond = cfg.getNumber("refill_per_second", refillPerSecond);
  keyHeader = cfg.getString("key_header", keyHeader);
  maxKeys = <i32>cfg.getNumber("max_keys", <f64>maxKeys);
  if (capacity < 1 || refillPerSecond < 0 || maxKeys < 1 || keyHeader.length == 0) {
    sdk.logError("rate-limiter-wasm: need capacity >= 1, refill_per_second >= 0, max_keys >= 1, a key_header");
    return false;
  }
  return true;
}
export function init(ptr: u32, len: u32): i32 {
  return sdk.init(ptr, len, onInit);
}

function onHttpPre(ctx: Context, req: HttpRequest): HttpResponse | null {
  const key = req.header(keyHeader);
  ctx.set(KEY, key !== null ? key : "anonymous");
  return null;
}
export function http_pre_hook(ptr: u32, len: u32): u64 {
  return sdk.httpPreHook(ptr, len, onHttpPre);
}

/** Takes one token for `key`; returns the tokens left, or a negative number of seconds to wait. */
function take(key: string, now: f64): f64 {
  let b: Bucket;
  if (buckets.has(key)) {
    b = buckets.get(key);
    b.tokens = Math.min(capacity, b.tokens + ((now - b.updated) / 1000) * refillPerSecond);
    b.updated = now;
  } else {
    if (buckets.size >= maxKeys) buckets.clear(); // bounded memory: forget everyone, start again full
    b = new Bucket(capacity, now);
    buckets.set(key, b);
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return Math.floor(b.tokens);
  }
  const wait = refillPerSecond > 0 ? (1 - b.tokens) / refillPerSecond : 3600;
  return -Math.max(1, Math.ceil(wait));
}

function onPre(ctx: Context, req: LLMRequest): ShortCircuit | null {
  let decision = ctx.getString(DECISION);
  if (decision == "") {
    // First attempt of this request (pre_hook runs again for every fallback attempt).
    const left = take(ctx.getString(KEY, "anonymous"), sdk.monotonicMs());
    decision = left >= 0 ? "allow" : "deny";
    ctx.set(DECISION, decision);
    if (left >= 0) ctx.set(REMAINING, <i32>left);
    else ctx.set(RETRY_AFTER, <i32>-left);
  }
  if (decision == "allow") return null;
  const wait = ctx.get<i32>(RETRY_AFTER, 1);
  return shortCircuit.error(429, "rate_limit", "rate limit exceeded for this key: try again in " + wait.toString() + " s", false);
}
export function pre_hook(ptr: u32, len: u32): u64 {
  return sdk.preHook(ptr, len, onPre);
}

function onHttpPost(ctx: Context, req: HttpRequest, resp: HttpResponse | null): void {
  if (resp === null) return;
  resp.setHeader("x-ratelimit-limit", (<i32>capacity).toString());
  if (ctx.has(REMAINING)) resp.setHeader("x-ratelimit-remaining", ctx.get<i32>(REMAINING, 0).toString());
  if (resp.status == 429 && ctx.has(RETRY_AFTER)) {
    resp.setHeader("x-ratelimit-remaining", "0");
    resp.setHeader("retry-after", ctx.get<i32>(RETRY_AFTER, 1).toString());
  }
}
export function http_post_hook(ptr: u32, len: u32): u64 {
  return sdk.httpPostHook(ptr, len, onHttpPost);
}
