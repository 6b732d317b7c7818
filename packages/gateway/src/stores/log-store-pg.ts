import pg from 'pg';
import { COLUMNS, checkTableName, likePattern, type LogFilter, type LogRecord, type LogStore } from './log-store.js';

type Row = Omit<LogRecord, 'started_at' | 'cost_usd'> & { seq: string; started_at: string; cost_usd: number | null };

// One multi-row INSERT per batch; PostgreSQL takes at most 65535 parameters per statement.
const ROWS_PER_INSERT = Math.floor(65535 / COLUMNS.length);

/**
 * The request log in PostgreSQL, for several gateway replicas sharing one store. The table (and
 * its schema, for `schema.table`) is created on first use.
 */
export async function openPgLogStore(url: string, table = 'gatehouse_request_logs'): Promise<LogStore> {
  const name = checkTableName(table);
  const quoted = name.split('.').map((p) => `"${p}"`).join('.');
  const base = name.replace('.', '_');
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // An idle client's error (server restart) must not end the process; the next query reconnects.
  pool.on('error', () => undefined);
  try {
    if (name.includes('.')) await pool.query(`CREATE SCHEMA IF NOT EXISTS "${name.split('.')[0]}"`);
    await pool.query(`CREATE TABLE IF NOT EXISTS ${quoted} (
      seq BIGSERIAL PRIMARY KEY,
      request_id TEXT NOT NULL, started_at BIGINT NOT NULL, method TEXT NOT NULL, route TEXT NOT NULL, front TEXT NOT NULL,
      provider TEXT, model TEXT, status INTEGER NOT NULL, stream BOOLEAN NOT NULL, total_ms DOUBLE PRECISION NOT NULL,
      upstream_ms DOUBLE PRECISION NOT NULL, overhead_ms DOUBLE PRECISION NOT NULL, ttft_ms DOUBLE PRECISION,
      input_tokens INTEGER, output_tokens INTEGER, cost_usd DOUBLE PRECISION, error_code TEXT, virtual_key TEXT,
      hooks JSONB NOT NULL, request_body TEXT, response_body TEXT
    )`);
    await pool.query(`CREATE INDEX IF NOT EXISTS "${base}_time" ON ${quoted} (started_at DESC, seq DESC)`);
    await pool.query(`CREATE INDEX IF NOT EXISTS "${base}_rid" ON ${quoted} (request_id)`);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }

  return {
    kind: 'postgres',
    async insert(rows) {
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        const part = rows.slice(i, i + ROWS_PER_INSERT);
        const values: unknown[] = [];
        const tuples = part.map((r, j) => {
          for (const c of COLUMNS) values.push(c === 'hooks' ? JSON.stringify(r.hooks) : r[c]);
          return `(${COLUMNS.map((_, k) => `$${j * COLUMNS.length + k + 1}`).join(', ')})`;
        });
        await pool.query(`INSERT INTO ${quoted} (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, values);
      }
    },
    async list(f: LogFilter) {
      const where: string[] = [];
      const args: unknown[] = [];
      const arg = (v: unknown): string => { args.push(v); return `$${args.length}`; };
      if (f.from !== undefined) where.push(`started_at >= ${arg(f.from)}`);
      if (f.to !== undefined) where.push(`started_at < ${arg(f.to)}`);
      if (f.provider !== undefined) where.push(`provider = ${arg(f.provider)}`);
      if (f.model !== undefined) where.push(`model = ${arg(f.model)}`);
      if (f.status !== undefined) where.push(`status = ${arg(f.status)}`);
      if (f.virtual_key !== undefined) where.push(`virtual_key = ${arg(f.virtual_key)}`);
      if (f.plugin !== undefined || f.outcome !== undefined) {
        const call: Record<string, string> = {};
        if (f.plugin !== undefined) call.plugin = f.plugin;
        if (f.outcome !== undefined) call.outcome = f.outcome;
        where.push(`hooks @> ${arg(JSON.stringify([call]))}::jsonb`);
      }
      if (f.q !== undefined) {
        const p = arg(likePattern(f.q));
        where.push(`(request_body LIKE ${p} OR response_body LIKE ${p})`);
      }
      if (f.cursor) {
        const at = arg(f.cursor.started_at);
        where.push(`(started_at < ${at} OR (started_at = ${at} AND seq < ${arg(f.cursor.seq)}))`);
      }
      const sql = `SELECT * FROM ${quoted}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, seq DESC LIMIT ${arg(f.limit + 1)}`;
      const { rows } = await pool.query<Row>(sql, args);
      const more = rows.length > f.limit;
      const page = rows.slice(0, f.limit).map(fromRow);
      const last = page[page.length - 1];
      return { rows: page, next: more && last ? { started_at: last.started_at, seq: last.seq } : undefined };
    },
    async get(id) {
      const { rows } = await pool.query<Row>(`SELECT * FROM ${quoted} WHERE request_id = $1 ORDER BY seq DESC LIMIT 1`, [id]);
      return rows[0] ? fromRow(rows[0]) : undefined;
    },
    async prune({ before, maxRows }) {
      let n = 0;
      if (before !== undefined) n += (await pool.query(`DELETE FROM ${quoted} WHERE started_at < $1`, [before])).rowCount ?? 0;
      if (maxRows !== undefined) {
        n += (await pool.query(`DELETE FROM ${quoted} WHERE seq <= (SELECT seq FROM ${quoted} ORDER BY seq DESC LIMIT 1 OFFSET $1)`, [maxRows])).rowCount ?? 0;
      }
      return n;
    },
    async count() {
      const { rows } = await pool.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${quoted}`);
      return Number(rows[0]?.n ?? 0);
    },
    async close() {
      await pool.end();
    },
  };
}

// BIGINT comes back as a string from pg; these fit in a double.
function fromRow(r: Row): LogRecord & { seq: number } {
  return { ...r, seq: Number(r.seq), started_at: Number(r.started_at) };
}
