import { resolve } from 'node:path';
import type { ParsedConfig } from './schema.js';

/** `logs_store` resolved: which store, where, and the writer's limits. */
export interface LogStoreSettings {
  type: 'sqlite' | 'postgres';
  /** sqlite: the file (absolute). */
  path: string;
  /** postgres: the connection string. */
  url: string | undefined;
  table: string;
  retentionDays: number | undefined;
  maxRows: number | undefined;
  maxQueue: number;
  batchRows: number;
  flushMs: number;
}

export function logStoreSettings(raw: ParsedConfig['logs_store'], baseDir: string, fail: (msg: string) => Error): LogStoreSettings | undefined {
  if (!raw?.enabled) return undefined;
  const c = raw.config;
  let url = c.url;
  if (raw.type === 'postgres' && url === undefined) {
    if (!c.host) throw fail('logs_store.config: postgres needs "url" or "host" (with user, password, db_name)');
    const auth = c.user ? `${encodeURIComponent(c.user)}${c.password ? `:${encodeURIComponent(c.password)}` : ''}@` : '';
    const ssl = c.ssl_mode ? `?sslmode=${encodeURIComponent(c.ssl_mode)}` : '';
    url = `postgres://${auth}${c.host}${c.port ? `:${c.port}` : ''}/${encodeURIComponent(c.db_name ?? 'postgres')}${ssl}`;
  }
  return {
    type: raw.type,
    path: resolve(baseDir, c.path ?? 'gatehouse-logs.db'),
    url,
    table: c.table ?? 'gatehouse_request_logs',
    retentionDays: raw.retention_days,
    maxRows: raw.max_rows,
    maxQueue: raw.queue.max_queue,
    batchRows: raw.queue.batch_rows,
    flushMs: raw.queue.flush_ms,
  };
}
