import type { HookCall } from '../core/observer.js';

/** One request as the log store keeps it. Never holds credentials: rows are built from the core's summary. */
export interface LogRecord {
  request_id: string;
  /** ms since the epoch */
  started_at: number;
  method: string;
  route: string;
  front: string;
  provider: string | null;
  model: string | null;
  status: number;
  stream: boolean;
  total_ms: number;
  upstream_ms: number;
  overhead_ms: number;
  ttft_ms: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
  error_code: string | null;
  virtual_key: string | null;
  /** The plugin trace: each hook call in order. */
  hooks: HookCall[];
  request_body: string | null;
  response_body: string | null;
}

/** A position in the newest-first listing: the last row of the previous page. */
export interface LogCursor {
  started_at: number;
  seq: number;
}

export interface LogFilter {
  from?: number;
  to?: number;
  provider?: string;
  model?: string;
  status?: number;
  /** Requests whose trace has a call by this plugin (with `outcome`, a call by it with that outcome). */
  plugin?: string;
  outcome?: string;
  virtual_key?: string;
  /** Substring of the stored request or response body. */
  q?: string;
  limit: number;
  cursor?: LogCursor;
}

export interface LogPage {
  rows: Array<LogRecord & { seq: number }>;
  /** Present when there may be more rows. */
  next: LogCursor | undefined;
}

/** Where request rows go: SQLite (embedded, default) or PostgreSQL (several replicas, one store). */
export interface LogStore {
  readonly kind: 'sqlite' | 'postgres';
  insert(rows: readonly LogRecord[]): Promise<void>;
  list(filter: LogFilter): Promise<LogPage>;
  /** The newest row with this request id. */
  get(requestId: string): Promise<(LogRecord & { seq: number }) | undefined>;
  /** Deletes rows older than `before` (ms) and all but the newest `maxRows`; returns how many went. */
  prune(opts: { before?: number; maxRows?: number }): Promise<number>;
  count(): Promise<number>;
  close(): Promise<void>;
}

/** Column order shared by both stores' INSERTs. */
export const COLUMNS = [
  'request_id', 'started_at', 'method', 'route', 'front', 'provider', 'model', 'status', 'stream', 'total_ms',
  'upstream_ms', 'overhead_ms', 'ttft_ms', 'input_tokens', 'output_tokens', 'cost_usd', 'error_code', 'virtual_key',
  'hooks', 'request_body', 'response_body',
] as const;

/** `%` and `_` taken literally in a LIKE pattern (with ESCAPE '\'). */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** A table name the config may set: `name` or `schema.name`, plain identifiers only (it goes into SQL). */
export function checkTableName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/.test(name)) {
    throw new Error(`log store table "${name}": use letters, digits and _ (optionally "schema.table")`);
  }
  return name;
}
