import type { RequestContext } from '../schema/context.js';
import type { HookOutcome } from '../plugins/invoke.js';

export type { HookOutcome };

export interface HookCall {
  plugin: string;
  hook: string;
  ms: number;
  outcome: HookOutcome;
}

/** One finished inference request, handed to observers after the answer went out. */
export interface RequestSummary {
  requestId: string;
  method: string;
  route: string;
  front: string;
  provider: string | undefined;
  model: string | undefined;
  status: number;
  stream: boolean;
  /** Wall-clock start (ms since the epoch), for stores. */
  startedAtMs: number;
  totalMs: number;
  upstreamMs: number;
  overheadMs: number;
  /** Time to the first event written, streams only. */
  ttftMs: number | undefined;
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  costUsd: number | undefined;
  errorCode: string | undefined;
  virtualKey: string | undefined;
  /** Hook calls in order; undefined when no observer asked for them. */
  hooks: HookCall[] | undefined;
}

/**
 * The narrow interface the core calls; observability (access log, metrics, stores) implements it.
 * The core builds a summary only when an observer is registered, so none costs nothing.
 */
export interface RequestObserver {
  requestStarted?(route: string): void;
  requestFinished(s: RequestSummary): void;
  hookCalled?(call: HookCall): void;
  /** True when per-request hook traces are wanted (the store); metrics only count hookCalled. */
  readonly wantsTrace?: boolean;
}

/** Several observers behind one, so the core checks a single field. */
export function combineObservers(list: RequestObserver[]): RequestObserver | undefined {
  if (list.length === 0) return undefined;
  if (list.length === 1) return list[0];
  const started = list.filter((o) => o.requestStarted);
  const hooks = list.filter((o) => o.hookCalled);
  return {
    wantsTrace: list.some((o) => o.wantsTrace),
    requestStarted: started.length ? (r) => { for (const o of started) o.requestStarted!(r); } : undefined,
    requestFinished: (s) => { for (const o of list) o.requestFinished(s); },
    hookCalled: hooks.length ? (c) => { for (const o of hooks) o.hookCalled!(c); } : undefined,
  };
}

/** Per-request hook traces, keyed by the request's context (the pipeline only sees the context). */
export const hookTraces = new WeakMap<RequestContext, HookCall[]>();
