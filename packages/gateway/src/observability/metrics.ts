import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { HookCall, RequestObserver, RequestSummary } from '../core/observer.js';

/** The label a model gets when nobody configured or priced it: client strings must not grow the series. */
export const OTHER_MODEL = 'other';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const HOOK_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1];

export interface GatewayMetrics extends RequestObserver {
  readonly registry: Registry;
}

/**
 * prom-client series for requests and plugin hooks. `knownModels` holds `provider/model` pairs
 * allowed as label values (configured models and priced ones); anything else is `other`.
 */
export function createMetrics(knownModels: ReadonlySet<string>, opts: { processMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry();
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });
  const reqLabels = ['provider', 'model', 'route', 'status'] as const;
  const requests = new Counter({ name: 'gatehouse_requests_total', help: 'Inference requests answered', labelNames: reqLabels, registers: [registry] });
  const inflight = new Gauge({ name: 'gatehouse_requests_in_flight', help: 'Inference requests being served', registers: [registry], aggregator: 'sum' });
  const latLabels = ['provider', 'model', 'route'] as const;
  const total = new Histogram({ name: 'gatehouse_request_duration_seconds', help: 'Time from request to the end of the answer', labelNames: latLabels, buckets: LATENCY_BUCKETS, registers: [registry] });
  const upstream = new Histogram({ name: 'gatehouse_upstream_duration_seconds', help: 'Time waiting on providers (all attempts)', labelNames: latLabels, buckets: LATENCY_BUCKETS, registers: [registry] });
  const overhead = new Histogram({ name: 'gatehouse_overhead_duration_seconds', help: 'Time spent in the gateway itself, plugins included', labelNames: latLabels, buckets: HOOK_BUCKETS.concat([0.05, 0.25]).sort((a, b) => a - b), registers: [registry] });
  const ttft = new Histogram({ name: 'gatehouse_time_to_first_token_seconds', help: 'Time to the first streamed event', labelNames: latLabels, buckets: LATENCY_BUCKETS, registers: [registry] });
  const tokens = new Counter({ name: 'gatehouse_tokens_total', help: 'Tokens reported by providers', labelNames: ['provider', 'model', 'direction'], registers: [registry] });
  const cost = new Counter({ name: 'gatehouse_cost_usd_total', help: 'Estimated cost from the price table (USD)', labelNames: ['provider', 'model'], registers: [registry] });
  const errors = new Counter({ name: 'gatehouse_errors_total', help: 'Requests answered with an error, by gateway error code', labelNames: ['provider', 'code'], registers: [registry] });
  const hookCalls = new Counter({ name: 'gatehouse_plugin_hook_calls_total', help: 'Plugin hook calls by outcome', labelNames: ['plugin', 'hook', 'outcome'], registers: [registry] });
  const hookTime = new Histogram({ name: 'gatehouse_plugin_hook_duration_seconds', help: 'Plugin hook call duration', labelNames: ['plugin', 'hook'], buckets: HOOK_BUCKETS, registers: [registry] });

  const modelLabel = (provider: string, model: string | undefined): string =>
    model !== undefined && knownModels.has(`${provider}/${model}`) ? model : OTHER_MODEL;

  return {
    registry,
    requestStarted() {
      inflight.inc();
    },
    requestFinished(s: RequestSummary) {
      inflight.dec();
      const provider = s.provider ?? 'none';
      const model = s.provider ? modelLabel(s.provider, s.model) : 'none';
      requests.inc({ provider, model, route: s.route, status: String(s.status) });
      const l = { provider, model, route: s.route };
      total.observe(l, s.totalMs / 1000);
      overhead.observe(l, s.overheadMs / 1000);
      if (s.upstreamMs > 0) upstream.observe(l, s.upstreamMs / 1000);
      if (s.ttftMs !== undefined) ttft.observe(l, s.ttftMs / 1000);
      if (s.inputTokens) tokens.inc({ provider, model, direction: 'input' }, s.inputTokens);
      if (s.outputTokens) tokens.inc({ provider, model, direction: 'output' }, s.outputTokens);
      if (s.costUsd) cost.inc({ provider, model }, s.costUsd);
      if (s.errorCode) errors.inc({ provider, code: s.errorCode });
    },
    hookCalled(c: HookCall) {
      hookCalls.inc({ plugin: c.plugin, hook: c.hook, outcome: c.outcome });
      hookTime.observe({ plugin: c.plugin, hook: c.hook }, c.ms / 1000);
    },
  };
}
