import type { GatewayConfig } from '../config/load.js';
import type { Logger } from '../observability/log.js';
import { PluginPipeline } from '../plugins/pipeline.js';
import { UpstreamClient } from '../providers/upstream-client.js';
import type { ModelEntry } from '../schema/openai.js';
import { hookTraces, type RequestObserver } from './observer.js';
import { Router } from './route.js';

/**
 * One running gateway: the frozen config, the router, the plugin pipeline and the upstream
 * connection pools. The transport calls into it; it never sees node:http.
 */
export class Gateway {
  readonly config: GatewayConfig;
  readonly router: Router;
  readonly pipeline: PluginPipeline;
  readonly http: UpstreamClient;
  readonly log: Logger;
  /** Access log, metrics, log store; undefined when nothing observes (then no summary is built). */
  readonly observer: RequestObserver | undefined;
  readonly startedAt = Date.now();
  #inflight = 0;
  #idleWaiters: Array<() => void> = [];
  #closed = false;

  constructor(config: GatewayConfig, pipeline: PluginPipeline, log: Logger, http = new UpstreamClient(), observer?: RequestObserver) {
    this.config = config;
    this.router = new Router(config.providers);
    this.pipeline = pipeline;
    this.http = http;
    this.log = log;
    this.observer = observer;
    const debug = log.isLevelEnabled('debug');
    const onHook = observer?.hookCalled;
    const trace = observer?.wantsTrace === true;
    if (pipeline.entries.length > 0 && (debug || onHook || trace)) {
      pipeline.onTiming = (ctx, plugin, hook, ms, outcome) => {
        if (debug) log.debug({ request_id: ctx.requestId, plugin, hook, ms: Number(ms.toFixed(3)), outcome }, 'plugin hook');
        const call = { plugin, hook, ms, outcome };
        if (onHook) onHook(call);
        if (trace) hookTraces.get(ctx)?.push(call);
      };
    }
    pipeline.onFramingDropped = (plugin, headers) => {
      log.warn({ plugin, headers }, 'plugin set headers the gateway owns (message framing); dropped, logged once per plugin');
    };
    pipeline.failures.onFailure((e) => {
      log.warn({ plugin: e.plugin, hook: e.hook, request_id: e.requestId, policy: e.policy, err: describe(e.error) }, 'plugin failure');
    });
  }

  get inflight(): number {
    return this.#inflight;
  }

  /** Brackets one request, so shutdown can wait for in-flight work. */
  track<T>(p: Promise<T>): Promise<T> {
    this.#inflight++;
    return p.finally(() => {
      if (--this.#inflight === 0) for (const w of this.#idleWaiters.splice(0)) w();
    });
  }

  /** Resolves when no request is in flight, or after `ms`; true when everything finished. */
  waitIdle(ms: number): Promise<boolean> {
    if (this.#inflight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.#idleWaiters.push(() => { clearTimeout(t); resolve(true); });
    });
  }

  /** The models the configured keys serve, as `provider/model`. */
  models(): ModelEntry[] {
    const created = Math.floor(this.startedAt / 1000);
    const out: ModelEntry[] = [];
    for (const p of this.config.providers.values()) {
      for (const m of p.models) out.push({ id: `${p.name}/${m}`, object: 'model', created, owned_by: p.name });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.pipeline.cleanup((plugin, err) => this.log.error({ plugin, err: describe(err) }, 'plugin cleanup failed'));
    await this.http.close().catch(() => undefined);
  }
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
