import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { startGateway } from '../start.js';
import { createLogger, endLog } from '../observability/log.js';
import { PluginLoadError } from '../plugins/load.js';

export interface ServeArgs { config?: string; port?: string; host?: string; workers?: string }

/**
 * `gatehouse serve`: load and check the config, load plugins, listen, print what is served.
 * Returns -1 while serving (the process lives on); SIGTERM/SIGINT drain and exit 0.
 */
export async function serve(args: ServeArgs): Promise<number> {
  const file = args.config ?? process.env.GATEHOUSE_CONFIG ?? 'config.json';
  const portText = args.port ?? process.env.PORT;
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    console.error(`gatehouse: --port must be an integer between 0 and 65535, got "${portText}"`);
    return 2;
  }
  const workersText = args.workers ?? process.env.GATEHOUSE_WORKERS;
  const workers = workersText === undefined ? availableParallelism() : Number(workersText);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
    console.error(`gatehouse: --workers must be an integer between 1 and 256, got "${workersText}"`);
    return 2;
  }
  let config;
  try {
    config = loadConfigFile(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`gatehouse: refusing to start: ${err.message}`);
      return 1;
    }
    throw err;
  }
  // Checked once in the primary above, so a bad config is reported once, before any fork.
  if (workers > 1 && cluster.isPrimary) {
    const { runPrimary } = await import('./cluster.js');
    process.exit(await runPrimary(workers));
  }
  const log = createLogger({ configLevel: config.logLevel });
  let running;
  try {
    running = await startGateway(config, { port, host: args.host, log });
  } catch (err) {
    if (err instanceof PluginLoadError) {
      console.error(`gatehouse: refusing to start: ${err.message}`);
      return 1;
    }
    console.error(`gatehouse: cannot start: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  // Logs go to stdout; when that is a closed pipe (`gatehouse serve | head`), a write fails with
  // EPIPE. The lines are lost either way: the failure must neither crash the gateway nor keep it
  // from stopping.
  process.stdout.on('error', () => undefined);
  const safeLog = (f: () => void): void => { try { f(); } catch { /* stdout is gone */ } };
  const exit = (code: number): void => { void endLog(log).then(() => process.exit(code)); };

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    // Whatever happens to the drain (or to a log write), the process ends after the grace period.
    setTimeout(() => process.exit(0), config.shutdownGraceMs + 5000).unref();
    safeLog(() => log.info({ signal, inflight: running.gateway.inflight }, 'shutting down: draining in-flight requests'));
    running.close().then(({ clean }) => {
      safeLog(() => log.info({ clean }, clean ? 'stopped' : 'stopped after the grace period; unfinished requests were closed'));
      exit(0);
    }, (err) => {
      safeLog(() => log.error({ err: String(err) }, 'error during shutdown'));
      exit(1);
    });
  };
  // Before the banner: whoever reads it may signal at once, and a signal without a listener yet
  // takes its default action (the process ends at once, nothing drained).
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Reloading is not there yet: SIGHUP (whose default is to end the process) is logged and ignored.
  process.on('SIGHUP', () => safeLog(() => log.warn({ signal: 'SIGHUP' }, 'SIGHUP received: config reload is not supported yet; ignored')));

  const banner = bannerOf(running.url, running.gateway, running.admin.auth.hasToken);
  if (cluster.isWorker && process.send) process.send({ type: 'gatehouse:listening', url: running.url, banner });
  else console.log(banner);
  return -1;
}

function bannerOf(url: string, gw: import('../core/gateway.js').Gateway, adminToken: boolean): string {
  const lines = [`Gatehouse listening on ${url}`, '  providers:'];
  for (const p of gw.config.providers.values()) {
    const models = p.models.length ? p.models.join(', ') : '';
    lines.push(`    ${p.name} (${p.adapter.kind}, ${p.keys.length} key${p.keys.length === 1 ? '' : 's'}) models: ${models}${p.anyModel ? (models ? ', ' : '') + 'any' : ''}`);
  }
  lines.push(`  plugins: ${gw.pipeline.entries.length ? gw.pipeline.entries.map((e) => `${e.name} [${e.onError}]`).join(', ') : '(none)'}`);
  lines.push(`  admin API: ${url}/api (${adminToken ? 'bearer admin.token' : 'no admin.token: loopback clients only'})`);
  lines.push(`  try: curl ${url}/v1/models`);
  return lines.join('\n');
}
