import type { RequestObserver, RequestSummary } from '../core/observer.js';
import type { LogRecord, LogStore } from '../stores/log-store.js';
import type { Logger } from './log.js';

export interface RequestLogOptions {
  /** Rows waiting for the store at most; beyond it rows are dropped and counted, never the request. */
  maxQueue: number;
  /** A flush starts when this many rows wait, or `flushMs` after the first one queued. */
  batchRows: number;
  flushMs: number;
  /** Retention: rows older than this many days go (undefined: kept). */
  retentionDays?: number;
  /** Retention: all but the newest this many rows go (undefined: no cap). */
  maxRows?: number;
  /** How often retention runs. */
  pruneEveryMs: number;
}

export interface RequestLogStats {
  queued: number;
  written: number;
  dropped: number;
  failed: number;
}

export interface RequestLog extends RequestObserver {
  readonly store: LogStore;
  stats(): RequestLogStats;
  /** Writes what is queued now (tests, shutdown). */
  flush(): Promise<void>;
  /** Flushes, stops the timers and closes the store. */
  close(): Promise<void>;
}

/**
 * The request log writer: each finished request becomes a row in a bounded in-memory queue, and
 * the queue goes to the store in batches off the request path. When the store is slower than the
 * traffic the queue fills and further rows are dropped (and counted), so memory stays bounded and
 * no request ever waits on the store.
 */
export function createRequestLog(store: LogStore, log: Logger, opts: RequestLogOptions): RequestLog {
  let queue: LogRecord[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | undefined;
  let closed = false;
  let droppedSinceWarn = 0;
  const stats = { written: 0, dropped: 0, failed: 0 };

  const write = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue.length <= opts.batchRows ? queue : queue.slice(0, opts.batchRows);
      queue = batch === queue ? [] : queue.slice(batch.length);
      try {
        await store.insert(batch);
        stats.written += batch.length;
      } catch (err) {
        // The store is down or refused the batch: these rows are lost, the gateway goes on.
        stats.failed += batch.length;
        log.warn({ component: 'log-store', rows: batch.length, err: err instanceof Error ? err.message : String(err) }, 'log store write failed; rows dropped');
      }
    }
    if (droppedSinceWarn > 0) {
      log.warn({ component: 'log-store', dropped: droppedSinceWarn, max_queue: opts.maxQueue }, 'log store queue was full; rows dropped');
      droppedSinceWarn = 0;
    }
  };
  const flush = (): Promise<void> => {
    if (timer) { clearTimeout(timer); timer = undefined; }
    writing ??= write().finally(() => { writing = undefined; });
    return writing;
  };
  const schedule = (): void => {
    if (writing) return; // the running flush drains what arrives meanwhile
    if (queue.length >= opts.batchRows) { void flush(); return; }
    if (!timer) { timer = setTimeout(() => void flush(), opts.flushMs); timer.unref(); }
  };

  const prune = async (): Promise<void> => {
    try {
      const before = opts.retentionDays !== undefined ? Date.now() - opts.retentionDays * 86_400_000 : undefined;
      const n = await store.prune({ before, maxRows: opts.maxRows });
      if (n > 0) log.info({ component: 'log-store', deleted: n }, 'log store retention');
    } catch (err) {
      log.warn({ component: 'log-store', err: err instanceof Error ? err.message : String(err) }, 'log store retention failed');
    }
  };
  const retention = opts.retentionDays !== undefined || opts.maxRows !== undefined;
  const pruneTimer = retention ? setInterval(() => void prune(), opts.pruneEveryMs) : undefined;
  pruneTimer?.unref();
  if (retention) void prune();

  return {
    store,
    wantsTrace: true,
    requestFinished(s: RequestSummary) {
      if (closed) return;
      if (queue.length >= opts.maxQueue) {
        stats.dropped++;
        droppedSinceWarn++;
        return;
      }
      queue.push(toRecord(s));
      schedule();
    },
    stats: () => ({ queued: queue.length, ...stats }),
    flush,
    async close() {
      closed = true;
      if (pruneTimer) clearInterval(pruneTimer);
      await flush();
      await store.close();
    },
  };
}

/**
 * A summary as a row. Only named fields are copied: the summary has no headers and no keys, and
 * nothing else reaches the store.
 */
function toRecord(s: RequestSummary): LogRecord {
  return {
    request_id: s.requestId,
    started_at: Math.round(s.startedAtMs),
    method: s.method,
    route: s.route,
    front: s.front,
    provider: s.provider ?? null,
    model: s.model ?? null,
    status: s.status,
    stream: s.stream,
    total_ms: s.totalMs,
    upstream_ms: s.upstreamMs,
    overhead_ms: s.overheadMs,
    ttft_ms: s.ttftMs ?? null,
    input_tokens: s.inputTokens ?? null,
    output_tokens: s.outputTokens ?? null,
    cost_usd: s.costUsd ?? null,
    error_code: s.errorCode ?? null,
    virtual_key: s.virtualKey ?? null,
    hooks: s.hooks ?? [],
    request_body: null,
    response_body: null,
  };
}
