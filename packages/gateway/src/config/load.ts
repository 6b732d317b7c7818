import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { configSchema, type ParsedConfig } from './schema.js';
import { formatPath, resolveEnvRefs } from './env-refs.js';
import { PriceTable } from '../pricing/table.js';
import { logStoreSettings, type LogStoreSettings } from './log-store.js';
import { buildProviders, type ProviderSettings } from './providers.js';
import { isGatehouseRootKey, prepareBifrostConfig } from './compat.js';

/** A config that cannot be used; the message names the JSON path and what was expected. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The validated, immutable configuration the gateway runs with. */
export interface GatewayConfig {
  /** Absolute path of the file it came from, or undefined when built in code. */
  file: string | undefined;
  /** Relative plugin paths resolve against this. */
  baseDir: string;
  maxBodyBytes: number;
  shutdownGraceMs: number;
  bodyTimeoutMs: number;
  headersTimeoutMs: number;
  maxHeaderBytes: number;
  maxJsonDepth: number;
  maxMessages: number;
  providers: ReadonlyMap<string, ProviderSettings>;
  plugins: ParsedConfig['plugins'];
  server: { host: string; port: number };
  /** admin.token with its env reference resolved; undefined when none is configured. */
  adminToken: string | undefined;
  /** Prices per provider/model (shipped table + `pricing` overrides) for cost in metrics, logs and budgets. */
  pricing: PriceTable;
  /** `logging.level` from the file (GATEHOUSE_LOG_LEVEL overrides it). */
  logLevel: string;
  /** `metrics.enabled` (default true): GET /metrics and the request/plugin series behind it. */
  metricsEnabled: boolean;
  /** `logs_store` when enabled: where the request log goes. */
  logStore: LogStoreSettings | undefined;
  /** What the gateway will not do as the config may expect, logged at start-up (warn). */
  warnings: readonly string[];
}

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${abs}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${abs} is not valid JSON: ${(err as Error).message}`);
  }
  return buildConfig(raw, { file: abs, baseDir: dirname(abs), env });
}

export function buildConfig(raw: unknown, opts: { file?: string; baseDir?: string; env?: NodeJS.ProcessEnv } = {}): GatewayConfig {
  const warnings: string[] = [];
  const prepared = prepareBifrostConfig(raw, warnings);
  // `env.NAME` is resolved before validation (so it works in base_url, which must be a URL), and
  // only under the keys Gatehouse reads: an ignored key's unset variable is no reason to refuse.
  let resolved: unknown = prepared;
  try {
    if (prepared && typeof prepared === 'object' && !Array.isArray(prepared)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(prepared)) out[k] = isGatehouseRootKey(k) ? resolveEnvRefs(v, opts.env ?? process.env, [k]) : v;
      resolved = out;
    }
  } catch (err) {
    throw new ConfigError(`invalid config${opts.file ? ` in ${opts.file}` : ''}: ${(err as Error).message}`);
  }
  const parsed = configSchema.safeParse(resolved);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${formatPath(i.path)}: ${i.message}`);
    throw new ConfigError(`invalid config${opts.file ? ` in ${opts.file}` : ''}:\n${lines.join('\n')}`);
  }
  const cfg: ParsedConfig = parsed.data;
  const providers = buildProviders(cfg.providers, (msg) => new ConfigError(`invalid config${opts.file ? ` in ${opts.file}` : ''}: ${msg}`));
  const adminToken = cfg.admin?.token;
  // Checked after env references are resolved: the length that matters is the token's own.
  if (adminToken !== undefined && adminToken.length < 16) throw new ConfigError(`invalid config${opts.file ? ` in ${opts.file}` : ''}: admin.token: must be at least 16 characters`);
  const names = new Set<string>();
  cfg.plugins.forEach((p, i) => {
    if (p.enabled === undefined) {
      warnings.push(`plugins[${i}] ("${p.name}") has no "enabled" key, so it is skipped (as in Bifrost, where it defaults to false); add "enabled": true to run it`);
    }
    if (p.enabled && names.has(p.name)) throw new ConfigError(`invalid config: plugins[${i}].name: "${p.name}" is used by two enabled plugins`);
    names.add(p.name);
  });
  return Object.freeze({
    file: opts.file,
    baseDir: opts.baseDir ?? process.cwd(),
    maxBodyBytes: Math.floor(cfg.client.max_request_body_size_mb * 1024 * 1024),
    shutdownGraceMs: cfg.client.shutdown_grace_seconds * 1000,
    bodyTimeoutMs: cfg.client.request_body_timeout_seconds * 1000,
    headersTimeoutMs: cfg.client.request_headers_timeout_seconds * 1000,
    maxHeaderBytes: Math.floor(cfg.client.max_header_size_kb * 1024),
    maxJsonDepth: cfg.client.max_json_depth,
    maxMessages: cfg.client.max_messages,
    providers,
    plugins: cfg.plugins,
    server: { host: cfg.server?.host ?? '127.0.0.1', port: cfg.server?.port ?? 8080 },
    adminToken,
    logLevel: cfg.logging?.level ?? 'info',
    metricsEnabled: cfg.metrics?.enabled ?? true,
    pricing: new PriceTable(cfg.pricing, new Map([...providers].map(([name, p]) => [name, p.adapter.kind]))),
    logStore: logStoreSettings(cfg.logs_store, opts.baseDir ?? process.cwd(), (msg) => new ConfigError(`invalid config${opts.file ? ` in ${opts.file}` : ''}: ${msg}`)),
    warnings: Object.freeze(warnings),
  });
}
