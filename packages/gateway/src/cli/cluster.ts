import cluster, { type Worker } from 'node:cluster';

import { withNodeFlags } from './node-flags.js';
import { serveClusterMetrics } from '../observability/metrics-endpoint.js';

/**
 * `--workers N`: N processes serve the same port, each with its own plugin instances. The OS
 * balances accepted connections (SCHED_NONE): node's round-robin mode would route every
 * connection through the primary, one more hop on the hot path.
 * The primary only supervises: it waits for every worker to listen, prints one banner, restarts a
 * worker that dies, and on SIGTERM/SIGINT asks every worker to drain and exits when they have.
 */
export interface WorkerReady { type: 'gatehouse:listening'; url: string; banner: string }

export function runPrimary(workers: number): Promise<number> {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ execArgv: withNodeFlags(process.execArgv) });
  serveClusterMetrics();
  return new Promise((resolve) => {
    const ready = new Set<number>();
    let banner = '';
    let stopping = false;
    let started = false;
    let exitCode = 0;

    const fork = (): Worker => {
      const w = cluster.fork({ GATEHOUSE_WORKER: '1' });
      w.on('message', (msg: WorkerReady) => {
        if (msg?.type !== 'gatehouse:listening') return;
        ready.add(w.id);
        banner ||= msg.banner;
        if (!started && ready.size === workers) {
          started = true;
          console.log(`${banner}\n  workers: ${workers} processes (pids ${Object.values(cluster.workers ?? {}).map((x) => x?.process.pid).join(', ')})`);
        }
      });
      return w;
    };

    cluster.on('exit', (w, code, signal) => {
      const wasReady = ready.delete(w.id);
      if (!stopping && (!started || !wasReady)) {
        // A worker that could not start (bad plugin, port taken): nothing will work; stop all.
        stopping = true;
        exitCode = code || 1;
        for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGTERM');
      }
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(exitCode);
        return;
      }
      console.error(`gatehouse: worker ${w.process.pid} exited (${signal ?? code}); starting a new one`);
      fork();
    });

    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      const live = Object.values(cluster.workers ?? {});
      if (live.length === 0) return resolve(0);
      for (const w of live) w?.process.kill('SIGTERM');
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    // As in a worker (serve.ts): not a reason to end; a terminal's hangup reaches the workers too.
    process.on('SIGHUP', () => console.error('gatehouse: SIGHUP received: config reload is not supported yet; ignored'));
    // A closed stdout/stderr (`gatehouse serve | head`) loses the primary's lines, nothing more.
    process.stdout.on('error', () => undefined);
    process.stderr.on('error', () => undefined);
    for (let i = 0; i < workers; i++) fork();
  });
}
