import { REQUEST_ID_KEY, type RequestContext } from '../schema/context.js';
import { GatewayError } from '../schema/errors.js';
import { emptyMap, mapOf } from '../schema/maps.js';
import { PluginRejection, type OnError, type PluginEntry } from './plugin.js';

export type HookName = 'httpTransportPreHook' | 'httpTransportPostHook' | 'httpTransportStreamChunkHook' | 'preLLMHook' | 'postLLMHook';

/** What one hook call did: the metrics' outcome label and the request trace's. */
export type HookOutcome = 'ok' | 'modified' | 'short_circuit' | 'error' | 'skipped' | 'timeout' | 'trap';

/**
 * Receives each hook call's duration and outcome; set only when something observes hooks (debug
 * logs, metrics, the log store), so timing costs nothing otherwise.
 */
export type HookTimer = (ctx: RequestContext, plugin: string, hook: HookName, ms: number, outcome: HookOutcome) => void;

/**
 * A hook's result, synchronous when the hook was: awaiting a value that is already there still costs
 * a microtask per hook, so callers await only promises (`isThenable`).
 */
export type Outcome<T> = T | typeof SKIPPED | Promise<T | typeof SKIPPED>;

/** Returned instead of a hook's result when a fail_open plugin failed and was skipped. */
export const SKIPPED: unique symbol = Symbol('gatehouse.skipped');

export interface PluginFailureEvent {
  plugin: string;
  hook: HookName;
  requestId: string;
  error: unknown;
  policy: OnError;
}

/** Counts plugin failures per plugin and hook, and tells listeners (logs, metrics). */
export class PluginFailures {
  readonly counts = new Map<string, number>();
  readonly #listeners: Array<(e: PluginFailureEvent) => void> = [];

  onFailure(fn: (e: PluginFailureEvent) => void): void {
    this.#listeners.push(fn);
  }

  record(e: PluginFailureEvent): void {
    const key = `${e.plugin}:${e.hook}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    for (const fn of this.#listeners) fn(e);
  }
}

/**
 * Checks what a hook returned (and what it left in the objects it was given): a message saying
 * what is wrong, or undefined. A wrong type is a plugin failure like a throw.
 */
export type OutputCheck<T> = (out: T) => string | undefined;

/**
 * Calls one hook under its plugin's policy. A throw, a deadline passed or an output `check`
 * refuses is a plugin failure: fail_open returns SKIPPED, fail_closed throws a GatewayError naming
 * the plugin and the hook. A PluginRejection is a deliberate answer, passed on whatever the policy.
 * Unhealthy plugins are not called at all. The reserved `request_id` is put back if the hook
 * wrote over it through `ctx.values` (the write is dropped, as `setValue` would drop it).
 */
export function invokeHook<T>(
  pipeline: { failures: PluginFailures; onTiming?: HookTimer | undefined },
  entry: PluginEntry,
  hook: HookName,
  ctx: RequestContext,
  call: () => T | Promise<T>,
  policyOverride?: OnError,
  check?: OutputCheck<T>,
): Outcome<T> {
  const policy = policyOverride ?? entry.onError;
  const failures = pipeline.failures;
  if (entry.plugin.isHealthy && !entry.plugin.isHealthy()) {
    const err = new GatewayError('GH_ERR_PLUGIN_UNHEALTHY', `plugin "${entry.name}" is unhealthy (failing repeatedly); ${hook} not run`);
    failures.record({ plugin: entry.name, hook, requestId: ctx.requestId, error: err, policy });
    pipeline.onTiming?.(ctx, entry.name, hook, 0, 'skipped');
    if (policy === 'fail_open') return SKIPPED;
    throw err;
  }
  const requestId = ctx.requestId;
  const timer = pipeline.onTiming;
  const t0 = timer ? performance.now() : 0;
  const fail = (err: unknown): typeof SKIPPED => {
    keepRequestId(ctx, requestId);
    const rejected = err instanceof PluginRejection || isForeignRejection(err);
    if (timer) timer(ctx, entry.name, hook, performance.now() - t0, rejected ? 'short_circuit' : failureOutcome(err));
    if (err instanceof PluginRejection) throw err;
    // A rejection from another copy of the class (a plugin that bundled its own gateway types).
    if (isForeignRejection(err)) throw new PluginRejection(err.error);
    failures.record({ plugin: entry.name, hook, requestId: ctx.requestId, error: err, policy });
    if (policy === 'fail_open') return SKIPPED;
    throw new GatewayError('GH_ERR_PLUGIN_FAILED', `plugin "${entry.name}" failed in ${hook}: ${reason(err)}`, { cause: err, allowFallbacks: false });
  };
  const settle = (value: T): T | typeof SKIPPED => {
    keepRequestId(ctx, requestId);
    const bad = check?.(value);
    if (bad !== undefined) return fail(new Error(bad));
    if (timer) timer(ctx, entry.name, hook, performance.now() - t0, valueOutcome(hook, value));
    return value;
  };
  let out: T | Promise<T>;
  try {
    out = call();
  } catch (err) {
    return fail(err);
  }
  if (!isThenable(out)) return settle(out);
  return (entry.timeoutMs ? withDeadline(out, entry.timeoutMs, entry.name, hook) : out).then(settle, fail);
}

/**
 * A hook's answer, read cheaply: what it returned, not what it changed in place (an in-place edit
 * of the request counts as `ok`). A chunk hook returning null dropped the event: `modified`.
 */
function valueOutcome(hook: HookName, v: unknown): HookOutcome {
  if (hook === 'httpTransportStreamChunkHook') return v === null ? 'modified' : 'ok';
  if (v === null || v === undefined || typeof v !== 'object') return 'ok';
  if (hook === 'httpTransportPreHook') return 'short_circuit';
  const o = v as { shortCircuit?: unknown; request?: unknown; response?: unknown; error?: unknown };
  if (hook === 'preLLMHook') return o.shortCircuit ? 'short_circuit' : o.request ? 'modified' : 'ok';
  if (hook === 'postLLMHook') return o.response || o.error ? 'modified' : 'ok';
  return 'ok';
}

/** A failure's kind: a deadline passed, the sandbox trapped (incl. fuel), or anything else. */
function failureOutcome(err: unknown): HookOutcome {
  const text = String((err as { reason?: unknown } | null)?.reason ?? (err instanceof Error ? err.message : err));
  if (/did not finish within|deadline|timed out/i.test(text)) return 'timeout';
  if (/^(trap|abort|proc_exit)\b|fuel exhausted|stack overflow|unreachable|out of bounds|RuntimeError/i.test(text)) return 'trap';
  return 'error';
}

/** Puts the request id back when a hook overwrote or deleted it, or replaced `ctx.values`. */
function keepRequestId(ctx: RequestContext, id: string): void {
  const values = ctx.values as unknown;
  if (typeof values === 'object' && values !== null && (values as Record<string, unknown>)[REQUEST_ID_KEY] === id) return;
  const fresh = typeof values === 'object' && values !== null && !Array.isArray(values) ? mapOf(values as Record<string, unknown>) : emptyMap<unknown>();
  fresh[REQUEST_ID_KEY] = id;
  (ctx as { values: Record<string, unknown> }).values = fresh;
}

function isForeignRejection(err: unknown): err is { error: PluginRejection['error'] } {
  return err instanceof Error && err.name === 'PluginRejection' && typeof (err as { error?: unknown }).error === 'object' && (err as { error?: unknown }).error !== null;
}

export function isThenable<T>(x: T | Promise<T>): x is Promise<T> {
  return typeof (x as { then?: unknown } | null)?.then === 'function';
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err) ?? String(err);
}

function withDeadline<T>(p: Promise<T>, ms: number, plugin: string, hook: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${hook} of "${plugin}" did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
