import type { RequestContext } from '../schema/context.js';
import { GatewayError } from '../schema/errors.js';
import { PluginRejection, type OnError } from './plugin.js';
import type { PluginEntry } from './pipeline.js';

export type HookName = 'httpTransportPreHook' | 'httpTransportPostHook' | 'httpTransportStreamChunkHook' | 'preLLMHook' | 'postLLMHook';

/** Receives each hook's duration; set only when debug logging is on, so timing costs nothing otherwise. */
export type HookTimer = (plugin: string, hook: HookName, ms: number) => void;

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
 * Calls one hook under its plugin's policy. A throw (or a deadline passed) is a plugin failure:
 * fail_open returns SKIPPED, fail_closed throws a GatewayError naming the plugin and the hook.
 * A PluginRejection is a deliberate answer, passed on whatever the policy. Unhealthy plugins are
 * not called at all.
 */
export async function invokeHook<T>(
  pipeline: { failures: PluginFailures; onTiming?: HookTimer | undefined },
  entry: PluginEntry,
  hook: HookName,
  ctx: RequestContext,
  call: () => T | Promise<T>,
  policyOverride?: OnError,
): Promise<T | typeof SKIPPED> {
  const policy = policyOverride ?? entry.onError;
  const failures = pipeline.failures;
  if (entry.plugin.isHealthy && !entry.plugin.isHealthy()) {
    const err = new GatewayError('GH_ERR_PLUGIN_UNHEALTHY', `plugin "${entry.name}" is unhealthy (failing repeatedly); ${hook} not run`);
    failures.record({ plugin: entry.name, hook, requestId: ctx.requestId, error: err, policy });
    if (policy === 'fail_open') return SKIPPED;
    throw err;
  }
  try {
    const timer = pipeline.onTiming;
    const t0 = timer ? performance.now() : 0;
    const out = call();
    if (!isThenable(out)) {
      if (timer) timer(entry.name, hook, performance.now() - t0);
      return out;
    }
    const value = entry.timeoutMs ? await withDeadline(out, entry.timeoutMs, entry.name, hook) : await out;
    if (timer) timer(entry.name, hook, performance.now() - t0);
    return value;
  } catch (err) {
    if (err instanceof PluginRejection) throw err;
    // A rejection from another copy of the class (a plugin that bundled its own gateway types).
    if (isForeignRejection(err)) throw new PluginRejection(err.error);
    failures.record({ plugin: entry.name, hook, requestId: ctx.requestId, error: err, policy });
    if (policy === 'fail_open') return SKIPPED;
    throw new GatewayError('GH_ERR_PLUGIN_FAILED', `plugin "${entry.name}" failed in ${hook}: ${reason(err)}`, { cause: err, allowFallbacks: false });
  }
}

function isForeignRejection(err: unknown): err is { error: PluginRejection['error'] } {
  return err instanceof Error && err.name === 'PluginRejection' && typeof (err as { error?: unknown }).error === 'object' && (err as { error?: unknown }).error !== null;
}

function isThenable<T>(x: T | Promise<T>): x is Promise<T> {
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
