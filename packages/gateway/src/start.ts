import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from './config/load.js';
import { createLogger, type Logger } from './observability/log.js';
import { loadPlugins, type NotLoaded } from './plugins/load.js';
import { PluginPipeline } from './plugins/pipeline.js';
import { createAdmin, type AdminLayer } from './admin/index.js';
import { createGatewayServer, cutStreams, type GatewayServer } from './transport/server.js';
import { Gateway } from './core/gateway.js';
import { combineObservers, type RequestObserver } from './core/observer.js';
import { accessLog } from './observability/access-log.js';
import { createMetrics, type GatewayMetrics } from './observability/metrics.js';
import { metricsMount } from './observability/metrics-endpoint.js';
import { openRequestLog } from './observability/open-request-log.js';
import type { RequestLog } from './observability/request-log.js';
import { registerLogRoutes } from './admin/routes/logs.js';

export interface StartOptions {
  port?: number;
  host?: string;
  log?: Logger;
  /** Where downloaded and transpiled plugins are cached. */
  cacheDir?: string;
}

export interface RunningGateway {
  gateway: Gateway;
  server: GatewayServer;
  /** The prom-client series behind GET /metrics; undefined when `metrics.enabled` is false. */
  metrics: GatewayMetrics | undefined;
  /** The request log writer (`logs_store.enabled`); undefined when off. */
  requestLog: RequestLog | undefined;
  /** The management API: other layers register their /api routes on `admin.router`. */
  admin: AdminLayer;
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), runs plugin cleanup. */
  close(graceMs?: number): Promise<{ clean: boolean }>;
}

/** Loads plugins (a failure throws before anything listens), builds the gateway and listens. */
export async function startGateway(config: GatewayConfig, opts: StartOptions = {}): Promise<RunningGateway> {
  const log = opts.log ?? createLogger();
  for (const w of config.warnings) log.warn({ component: 'config' }, w);
  const notLoaded: NotLoaded[] = [];
  const entries = await loadPlugins(config.plugins, {
    baseDir: config.baseDir,
    cacheDir: opts.cacheDir ?? process.env.GATEHOUSE_CACHE_DIR ?? join(tmpdir(), 'gatehouse-cache'),
    log: log.child({ component: 'plugins' }),
    notLoaded,
  });
  const observers: RequestObserver[] = [];
  if (log.isLevelEnabled('info')) observers.push(accessLog(log));
  const metrics = config.metricsEnabled ? createMetrics(knownModels(config)) : undefined;
  if (metrics) observers.push(metrics);
  // Opened before anything listens: a store that cannot be opened is a start-up error.
  const requestLog = config.logStore ? await openRequestLog(config.logStore, log.child({ component: 'log-store' }), metrics?.registry) : undefined;
  if (requestLog) observers.push(requestLog);
  const gateway = new Gateway(config, new PluginPipeline(entries, notLoaded), log, undefined, combineObservers(observers));
  const admin = createAdmin({
    token: config.adminToken,
    log: log.child({ component: 'admin' }),
    // Uploaded .wasm plugins come through here: allow more than an inference body.
    maxBodyBytes: Math.max(config.maxBodyBytes, 64 * 1024 * 1024),
    bodyTimeoutMs: config.bodyTimeoutMs,
  });
  if (requestLog) registerLogRoutes(admin.router, requestLog.store, requestLog.stats);
  const server = createGatewayServer(gateway, { mounts: metrics ? [admin.mount, metricsMount(metrics.registry)] : [admin.mount] });
  const host = opts.host ?? config.server.host;
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.server.listen(opts.port ?? config.server.port, host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  let closing: Promise<{ clean: boolean }> | undefined;
  return {
    gateway,
    server,
    metrics,
    requestLog,
    admin,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close(graceMs = config.shutdownGraceMs) {
      closing ??= (async () => {
        server.draining = true;
        const closed = new Promise<void>((resolve) => server.server.close(() => resolve()));
        server.server.closeIdleConnections();
        const clean = await gateway.waitIdle(graceMs);
        if (!clean) cutStreams(server);
        server.server.closeAllConnections();
        await closed;
        await gateway.close();
        await requestLog?.close().catch((err: Error) => log.error({ component: 'log-store', err: err.message }, 'log store close failed'));
        return { clean };
      })();
      return closing;
    },
  };
}

/** `provider/model` pairs that may appear as a metrics label: configured on a key, or priced. */
function knownModels(config: GatewayConfig): Set<string> {
  const out = new Set<string>();
  for (const p of config.providers.values()) {
    for (const m of p.models) out.add(`${p.name}/${m}`);
    for (const key of config.pricing.keys()) if (key.startsWith(`${p.name}/`) || key.startsWith(`${p.adapter.kind}/`)) out.add(`${p.name}/${key.slice(key.indexOf('/') + 1)}`);
  }
  return out;
}
