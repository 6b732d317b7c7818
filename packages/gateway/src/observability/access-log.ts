import type { RequestObserver } from '../core/observer.js';
import type { Logger } from './log.js';

/** One info line per request: what an operator greps first. */
export function accessLog(log: Logger): RequestObserver {
  return {
    requestFinished(s) {
      log.info({
        request_id: s.requestId,
        method: s.method,
        route: s.route,
        status: s.status,
        provider: s.provider,
        model: s.model,
        latency_ms: round(s.totalMs),
        upstream_ms: round(s.upstreamMs),
        ttft_ms: s.ttftMs === undefined ? undefined : round(s.ttftMs),
        input_tokens: s.inputTokens,
        output_tokens: s.outputTokens,
        cost_usd: s.costUsd,
        code: s.errorCode,
      }, 'request');
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
