import { Counter, Gauge, type Registry } from 'prom-client';
import type { LogStoreSettings } from '../config/log-store.js';
import { openPgLogStore } from '../stores/log-store-pg.js';
import { openSqliteLogStore } from '../stores/log-store-sqlite.js';
import type { Logger } from './log.js';
import { createRequestLog, type RequestLog } from './request-log.js';

const PRUNE_EVERY_MS = 10 * 60 * 1000;

/** Opens the configured store and its writer; with metrics on, the queue's counts are series too. */
export async function openRequestLog(s: LogStoreSettings, log: Logger, registry: Registry | undefined): Promise<RequestLog> {
  const store = s.type === 'postgres' ? await openPgLogStore(s.url as string, s.table) : openSqliteLogStore(s.path, s.table);
  const rl = createRequestLog(store, log, {
    maxQueue: s.maxQueue, batchRows: s.batchRows, flushMs: s.flushMs,
    retentionDays: s.retentionDays, maxRows: s.maxRows, pruneEveryMs: PRUNE_EVERY_MS,
  });
  if (registry) {
    // Read at scrape time from the writer's own counts: nothing extra per request.
    new Counter({ name: 'gatehouse_log_store_rows_total', help: 'Request log rows by fate', labelNames: ['result'], registers: [registry], collect() {
      const st = rl.stats();
      this.reset();
      this.inc({ result: 'written' }, st.written);
      this.inc({ result: 'dropped' }, st.dropped);
      this.inc({ result: 'failed' }, st.failed);
    } });
    new Gauge({ name: 'gatehouse_log_store_queue_rows', help: 'Request log rows waiting to be written', registers: [registry], aggregator: 'sum', collect() {
      this.set(rl.stats().queued);
    } });
  }
  log.info({ type: s.type, ...(s.type === 'sqlite' ? { path: s.path } : { table: s.table }) }, 'request log store open');
  return rl;
}
