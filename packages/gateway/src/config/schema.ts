import { z } from 'zod';

/**
 * The config file, in Bifrost's `config.json` format, so an existing Bifrost/DeepIntShield config
 * loads unchanged: unknown keys (stores, governance, mcp...) are accepted and ignored, and
 * durations take Bifrost's forms (integer milliseconds or strings like "500ms", "2s").
 */

/** Integer milliseconds, or a duration string: "250ms", "1.5s", "2m". */
export const durationMs = z.union([
  z.number().nonnegative(),
  z.string().regex(/^\d+(\.\d+)?(ms|s|m)$/, 'a duration like "500ms", "2s" or "1m"'),
]).transform((v) => {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(v) as RegExpExecArray;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
});

const secret = z.string().describe('a literal value, or "env.NAME" to read it from the environment');

/** Bifrost's `bedrock_key_config`: AWS credentials (SigV4), region, an inference-profile ARN, model → id map. */
export const bedrockKeyConfigSchema = z.looseObject({
  access_key: secret.optional(),
  secret_key: secret.optional(),
  session_token: secret.optional(),
  region: z.string().min(1).default('us-east-1'),
  arn: z.string().optional(),
  /** Model name (as clients send it) → Bedrock model id or inference profile. */
  deployments: z.record(z.string(), z.string()).default({}),
});

/** Bifrost's `vertex_key_config`: the project, the region, and a service-account key (JSON, as text or object). */
export const vertexKeyConfigSchema = z.looseObject({
  project_id: z.string().min(1),
  region: z.string().min(1).default('us-central1'),
  auth_credentials: z.union([secret, z.record(z.string(), z.unknown())]),
  deployments: z.record(z.string(), z.string()).default({}),
});

export const keySchema = z.looseObject({
  name: z.string().optional(),
  id: z.string().optional(),
  value: secret.default(''),
  models: z.array(z.string()).default([]),
  weight: z.number().positive().default(1),
  bedrock_key_config: bedrockKeyConfigSchema.optional(),
  vertex_key_config: vertexKeyConfigSchema.optional(),
});

export const networkSchema = z.looseObject({
  base_url: z.string().url().optional(),
  extra_headers: z.record(z.string(), z.string()).default({}),
  default_request_timeout_in_seconds: z.number().positive().default(30),
  max_retries: z.number().int().min(0).max(10).default(0),
  retry_backoff_initial_ms: durationMs.default(500),
  retry_backoff_max_ms: durationMs.default(5000),
  stream_idle_timeout_in_seconds: z.number().positive().default(60),
  /** Our own: a non-streaming answer must be complete this long after the request was sent (504 past it). */
  response_timeout_in_seconds: z.number().positive().default(120),
  /** Our own: longest silence between two body chunks of a non-streaming answer (default: default_request_timeout_in_seconds). */
  body_idle_timeout_in_seconds: z.number().positive().optional(),
  /** Our own: the largest non-streaming answer read (502 past it). */
  max_response_body_size_mb: z.number().positive().default(100),
  /** Our own: what is read of an error answer; the rest is dropped unread. */
  max_error_body_size_kb: z.number().positive().default(64),
  /** Our own: the largest single SSE event of a stream; past it the stream ends with an error event. */
  max_stream_event_size_mb: z.number().positive().default(8),
});

export const providerSchema = z.looseObject({
  keys: z.array(keySchema).default([]),
  network_config: networkSchema.default(() => networkSchema.parse({})),
  meta_config: z.record(z.string(), z.unknown()).default({}),
  /** Bifrost's custom providers: a new name on top of a known wire format. */
  custom_provider_config: z.looseObject({ base_provider_type: z.string() }).optional(),
});

export const pluginSchema = z.looseObject({
  name: z.string().min(1),
  /** Bifrost's `enabled` is a plain bool: an entry without it is skipped (with a start-up warning). */
  enabled: z.boolean().optional(),
  path: z.string().min(1),
  /** Any JSON value (Bifrost's is `any`); absent or null means none (`init` gets length 0). */
  config: z.unknown().optional().transform((c) => (c === null ? undefined : c)),
  placement: z.enum(['pre_builtin', 'builtin', 'post_builtin']).default('post_builtin'),
  order: z.number().int().default(0),
  on_error: z.enum(['fail_closed', 'fail_open']).default('fail_closed'),
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, '64 hexadecimal characters').optional(),
  /** Our own: let a WASM URL (or its redirects) reach loopback, private or link-local addresses. */
  allow_private_url: z.boolean().default(false),
  limits: z.strictObject({
    memory_mb: z.number().positive().max(4096).optional(),
    fuel: z.number().int().positive().optional(),
    timeout_ms: z.number().positive().optional(),
    /** Our own: how long a call may wait for a free worker (isolation worker); past it a 503, never a skip. */
    queue_timeout_ms: z.number().positive().optional(),
  }).default({}),
  isolation: z.enum(['inline', 'worker']).default('inline'),
  instances: z.number().int().min(1).max(64).optional(),
});

export const clientSchema = z.looseObject({
  max_request_body_size_mb: z.number().positive().default(100),
  /** Our own: how long in-flight requests may take to finish on shutdown. */
  shutdown_grace_seconds: z.number().nonnegative().default(30),
  /** Our own: a request whose body has not fully arrived after this long is closed with 408. */
  request_body_timeout_seconds: z.number().positive().default(30),
  /** Our own: a request whose headers have not fully arrived after this long is closed with 408. */
  request_headers_timeout_seconds: z.number().positive().default(30),
  /** Our own: the request line and headers together, in KB; more gets 431. */
  max_header_size_kb: z.number().positive().max(1024).default(16),
  /** Our own: how deep objects and arrays may nest in a request body; deeper gets 400. */
  max_json_depth: z.number().int().min(1).max(10_000).default(64),
  /** Our own: how many messages a chat request (or items a prompt/input array) may carry; more gets 400. */
  max_messages: z.number().int().min(1).default(2048),
});

/** Our own: USD per million tokens, keyed `<provider>/<model>`; overrides the shipped table. */
export const priceSchema = z.strictObject({
  input_per_mtok: z.number().nonnegative(),
  output_per_mtok: z.number().nonnegative(),
});

const pgStoreSchema = z.looseObject({
  /** A connection string; or Bifrost's host/port/user/password/db_name/ssl_mode. */
  url: z.string().optional(),
  host: z.string().optional(),
  port: z.union([z.number().int(), z.string().regex(/^\d+$/)]).optional(),
  user: z.string().optional(),
  password: z.string().optional(),
  db_name: z.string().optional(),
  ssl_mode: z.string().optional(),
  /** Our own: table name, `table` or `schema.table` (default gatehouse_request_logs). */
  table: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/, 'letters, digits and _, optionally "schema.table"').optional(),
});

export const logsStoreSchema = z.looseObject({
  enabled: z.boolean().default(false),
  type: z.enum(['sqlite', 'postgres']).default('sqlite'),
  /** sqlite: `{ path }` (default gatehouse-logs.db beside the config file); postgres: see pgStoreSchema. */
  config: z.looseObject({ path: z.string().min(1).optional(), ...pgStoreSchema.shape }).default({}),
  /** Rows older than this are deleted (Bifrost's name). */
  retention_days: z.number().positive().optional(),
  /** Our own: all but the newest this many rows are deleted. */
  max_rows: z.number().int().positive().optional(),
  /** Our own: the write queue (rows beyond max_queue are dropped and counted, never the request). */
  queue: z.strictObject({
    max_queue: z.number().int().positive().default(10_000),
    batch_rows: z.number().int().positive().default(500),
    flush_ms: z.number().int().positive().default(200),
  }).default({ max_queue: 10_000, batch_rows: 500, flush_ms: 200 }),
});

export const configSchema = z.looseObject({
  $schema: z.string().optional(),
  client: clientSchema.default(() => clientSchema.parse({})),
  providers: z.record(z.string(), providerSchema).default({}),
  plugins: z.array(pluginSchema).nullish().transform((p) => p ?? []),
  /** Our own: the management API at /api and the UI at /ui. */
  admin: z.looseObject({
    /** Bearer token for /api/* and the UI; without one the API answers loopback clients only. */
    token: z.string().min(1).describe('the admin bearer token, as "env.NAME" to read it from the environment').optional(),
  }).optional(),
  /** Our own: where the server listens unless the command line says otherwise. */
  /** Our own: log level (GATEHOUSE_LOG_LEVEL wins). */
  logging: z.looseObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).optional(),
  /** Our own: Prometheus series at GET /metrics (on unless false). */
  metrics: z.looseObject({ enabled: z.boolean().default(true) }).optional(),
  /** Bifrost's `logs_store`: the request log behind GET /api/logs (off unless enabled). */
  logs_store: logsStoreSchema.optional(),
  pricing: z.record(z.string().regex(/^[^/]+\/.+$/, '"<provider>/<model>"'), priceSchema).default({}),
  server: z.looseObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8080) }).optional(),
});

export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type ParsedProvider = z.output<typeof providerSchema>;
export type ParsedPlugin = z.output<typeof pluginSchema>;
