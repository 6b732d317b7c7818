import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { COLUMNS, checkTableName, likePattern, type LogFilter, type LogRecord, type LogStore } from './log-store.js';

type Row = Omit<LogRecord, 'stream' | 'hooks'> & { seq: number; stream: number; hooks: string };

/**
 * The request log in one SQLite file, WAL mode (the API's reads never wait on the writer), created
 * on first use. better-sqlite3 is synchronous: each batch is one transaction, so a flush of a few
 * hundred rows costs about a millisecond of the event loop, once per flush, not per request.
 */
export function openSqliteLogStore(file: string, table = 'gatehouse_request_logs'): LogStore {
  const t = checkTableName(table).replace('.', '_');
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS ${t} (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL, started_at INTEGER NOT NULL, method TEXT NOT NULL, route TEXT NOT NULL, front TEXT NOT NULL,
    provider TEXT, model TEXT, status INTEGER NOT NULL, stream INTEGER NOT NULL, total_ms REAL NOT NULL,
    upstream_ms REAL NOT NULL, overhead_ms REAL NOT NULL, ttft_ms REAL, input_tokens INTEGER, output_tokens INTEGER,
    cost_usd REAL, error_code TEXT, virtual_key TEXT, hooks TEXT NOT NULL, request_body TEXT, response_body TEXT
  );
  CREATE INDEX IF NOT EXISTS ${t}_time ON ${t} (started_at DESC, seq DESC);
  CREATE INDEX IF NOT EXISTS ${t}_rid ON ${t} (request_id);`);
  const insertOne = db.prepare(`INSERT INTO ${t} (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
  const insertAll = db.transaction((rows: readonly LogRecord[]) => {
    for (const r of rows) {
      insertOne.run(COLUMNS.map((c) => (c === 'hooks' ? JSON.stringify(r.hooks) : c === 'stream' ? (r.stream ? 1 : 0) : r[c])));
    }
  });
  const byId = db.prepare<[string], Row>(`SELECT * FROM ${t} WHERE request_id = ? ORDER BY seq DESC LIMIT 1`);
  const countAll = db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM ${t}`);
  const pruneOld = db.prepare(`DELETE FROM ${t} WHERE started_at < ?`);
  const pruneMany = db.prepare(`DELETE FROM ${t} WHERE seq <= (SELECT seq FROM ${t} ORDER BY seq DESC LIMIT 1 OFFSET ?)`);

  return {
    kind: 'sqlite',
    async insert(rows) {
      insertAll(rows);
    },
    async list(f: LogFilter) {
      const where: string[] = [];
      const args: unknown[] = [];
      const add = (sql: string, ...v: unknown[]): void => { where.push(sql); args.push(...v); };
      if (f.from !== undefined) add('started_at >= ?', f.from);
      if (f.to !== undefined) add('started_at < ?', f.to);
      if (f.provider !== undefined) add('provider = ?', f.provider);
      if (f.model !== undefined) add('model = ?', f.model);
      if (f.status !== undefined) add('status = ?', f.status);
      if (f.virtual_key !== undefined) add('virtual_key = ?', f.virtual_key);
      if (f.plugin !== undefined || f.outcome !== undefined) {
        const cond: string[] = [];
        const v: unknown[] = [];
        if (f.plugin !== undefined) { cond.push(`json_extract(h.value, '$.plugin') = ?`); v.push(f.plugin); }
        if (f.outcome !== undefined) { cond.push(`json_extract(h.value, '$.outcome') = ?`); v.push(f.outcome); }
        add(`EXISTS (SELECT 1 FROM json_each(${t}.hooks) AS h WHERE ${cond.join(' AND ')})`, ...v);
      }
      if (f.q !== undefined) {
        const p = likePattern(f.q);
        add(`(request_body LIKE ? ESCAPE '\\' OR response_body LIKE ? ESCAPE '\\')`, p, p);
      }
      if (f.cursor) add('(started_at < ? OR (started_at = ? AND seq < ?))', f.cursor.started_at, f.cursor.started_at, f.cursor.seq);
      const sql = `SELECT * FROM ${t}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, seq DESC LIMIT ?`;
      const rows = db.prepare<unknown[], Row>(sql).all(...args, f.limit + 1);
      const more = rows.length > f.limit;
      const page = rows.slice(0, f.limit).map(fromRow);
      const last = page[page.length - 1];
      return { rows: page, next: more && last ? { started_at: last.started_at, seq: last.seq } : undefined };
    },
    async get(id) {
      const r = byId.get(id);
      return r ? fromRow(r) : undefined;
    },
    async prune({ before, maxRows }) {
      let n = 0;
      if (before !== undefined) n += pruneOld.run(before).changes;
      if (maxRows !== undefined) n += pruneMany.run(maxRows).changes;
      return n;
    },
    async count() {
      return countAll.get()?.n ?? 0;
    },
    async close() {
      db.close();
    },
  };
}

function fromRow(r: Row): LogRecord & { seq: number } {
  return { ...r, stream: r.stream === 1, hooks: JSON.parse(r.hooks) as LogRecord['hooks'] };
}
