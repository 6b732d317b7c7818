import type { RequestContext } from '../schema/context.js';
import type { LLMError } from '../schema/errors.js';
import type { HttpRequestData, HttpResponseData } from '../schema/http.js';
import type { LLMRequest } from '../schema/request.js';
import type { LLMResponse } from '../schema/response.js';

export type OnError = 'fail_closed' | 'fail_open';
export type Placement = 'pre_builtin' | 'builtin' | 'post_builtin';

/** A stream event as hooks see it: the bare JSON object (for chat, a `chat.completion.chunk`). */
export type ChunkObject = Record<string, unknown>;

export type HttpPreResult = void | undefined | null | HttpResponseData;
export interface PreLLMShortCircuit { response?: LLMResponse | null; error?: LLMError | null }
export type PreLLMResult = void | undefined | null | { request?: LLMRequest | null; shortCircuit?: PreLLMShortCircuit | null };
export type PostLLMResult = void | undefined | null | { response?: LLMResponse | null; error?: LLMError | null };

type MaybePromise<T> = T | Promise<T>;

/**
 * The one interface every plugin host implements (native ES modules, WASM modules); the pipeline
 * knows nothing else. Every hook is optional: a missing hook is a pass-through and costs nothing.
 *
 * Conventions (plugin contract, section 2): returning nothing means "no change"; mutations of
 * `req` / `resp` in place apply; throwing is a plugin failure, handled by the entry's `on_error`.
 */
export interface Plugin {
  readonly name: string;
  httpTransportPreHook?(ctx: RequestContext, req: HttpRequestData): MaybePromise<HttpPreResult>;
  httpTransportPostHook?(ctx: RequestContext, req: HttpRequestData, resp: HttpResponseData | null): MaybePromise<void>;
  /** Return the chunk (same or new object) to send it, `null` to drop it. */
  httpTransportStreamChunkHook?(ctx: RequestContext, req: HttpRequestData, chunk: ChunkObject): MaybePromise<ChunkObject | null>;
  /**
   * The same hook taking the event's JSON text, for hosts that serialise it anyway (WASM); the
   * pipeline prefers it, so a stream that no other hook reads is never parsed. Returns undefined
   * for "unchanged", a new object to replace the event, null to drop it.
   */
  httpTransportStreamChunkHookJson?(ctx: RequestContext, req: HttpRequestData, chunkJson: string): MaybePromise<ChunkObject | null | undefined>;
  preLLMHook?(ctx: RequestContext, req: LLMRequest): MaybePromise<PreLLMResult>;
  postLLMHook?(ctx: RequestContext, resp: LLMResponse | null, err: LLMError | null): MaybePromise<PostLLMResult>;
  cleanup?(): MaybePromise<void>;
  /**
   * Hosts that can tell a plugin is down (a WASM instance failing repeatedly) return false here;
   * the pipeline then applies `on_error` without calling the hook.
   */
  isHealthy?(): boolean;
  /** Bytes of plugin output (stdout/stderr lines) dropped over its budget since load; /health shows it. */
  droppedLogBytes?(): number;
  /**
   * True when the plugin only ever sees serialised copies of hook arguments (WASM hosts): it
   * cannot change them in place, so the pipeline skips its defensive copies for it and keeps the
   * provider's raw text (rawBodyOf) valid across its hooks.
   */
  readonly receivesCopies?: boolean;
}

/**
 * Thrown by a hook (or a host on a plugin's behalf) to end a stream or reject a request on purpose,
 * as opposed to failing. The pipeline answers with `error` whatever the `on_error` policy.
 */
export class PluginRejection extends Error {
  readonly error: LLMError;
  constructor(error: LLMError) {
    super(error.error?.message ?? 'rejected by plugin');
    this.name = 'PluginRejection';
    this.error = error;
  }
}

/** A loaded plugin with its policy, in pipeline order. */
export interface PluginEntry {
  plugin: Plugin;
  name: string;
  onError: OnError;
  /** Per-hook deadline for native plugins (WASM hosts enforce their own). */
  timeoutMs: number | undefined;
}

/** One `plugins[]` entry of the config, after validation and defaults. */
export interface PluginEntryConfig {
  name: string;
  enabled?: boolean | undefined;
  path: string;
  /** The entry's `config`, any JSON value; undefined when absent. */
  config: unknown;
  placement: Placement;
  order: number;
  on_error: OnError;
  /** Optional content pin for WASM files and URLs. */
  sha256?: string;
  /** A WASM URL may resolve to a loopback, private or link-local address (an internal artifact server). */
  allow_private_url?: boolean;
  limits: { memory_mb?: number; fuel?: number; timeout_ms?: number; queue_timeout_ms?: number };
  isolation: 'inline' | 'worker';
  instances?: number;
}

/** What a host needs to load one entry. */
export interface PluginLoadOptions {
  /** Directory relative paths are resolved against (the config file's folder). */
  baseDir: string;
  /** Directory for caches (downloaded WASM files). */
  cacheDir: string;
  log: PluginLogger;
}

export interface PluginLogger {
  info(obj: Record<string, unknown> | string, msg?: string): void;
  warn(obj: Record<string, unknown> | string, msg?: string): void;
  error(obj: Record<string, unknown> | string, msg?: string): void;
  debug(obj: Record<string, unknown> | string, msg?: string): void;
}

/** A host turns a config entry into a Plugin, or throws an Error that names what is wrong. */
export type PluginLoader = (entry: PluginEntryConfig, opts: PluginLoadOptions) => Promise<Plugin>;
