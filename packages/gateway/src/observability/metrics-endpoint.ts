import cluster from 'node:cluster';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AggregatorRegistry, type Registry } from 'prom-client';

/** IPC between a worker serving GET /metrics and the primary that aggregates every worker's series. */
export const METRICS_REQUEST = 'gatehouse:metrics';
export const METRICS_REPLY = 'gatehouse:metrics:reply';

interface Reply { type: typeof METRICS_REPLY; id: number; text?: string; error?: string }

let nextId = 0;
const waiting = new Map<number, (r: Reply) => void>();
let listening = false;

/**
 * GET /metrics. Under `--workers N` a worker asks the primary, which gathers all workers'
 * registries (prom-client's AggregatorRegistry), so any worker answers for the whole server.
 */
export function metricsMount(registry: Registry): { prefix: string; handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> } {
  const inCluster = cluster.isWorker && typeof process.send === 'function';
  // Workers answer the primary's collection requests with this registry.
  if (inCluster) AggregatorRegistry.setRegistries([registry]);
  return {
    prefix: '/metrics',
    async handle(req, res, path) {
      req.resume();
      if (path !== '/metrics') return send(res, 404, 'text/plain', 'not found\n');
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'GET only\n', { allow: 'GET' });
      try {
        const text = inCluster ? await fromPrimary() : await registry.metrics();
        send(res, 200, registry.contentType, text);
      } catch (err) {
        send(res, 503, 'text/plain', `metrics unavailable: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    },
  };
}

function fromPrimary(): Promise<string> {
  if (!listening) {
    listening = true;
    process.on('message', (m: Reply) => {
      if (m?.type !== METRICS_REPLY) return;
      waiting.get(m.id)?.(m);
      waiting.delete(m.id);
    });
  }
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { waiting.delete(id); reject(new Error('the primary did not answer within 5 s')); }, 5000);
    waiting.set(id, (r) => { clearTimeout(t); if (r.text !== undefined) resolve(r.text); else reject(new Error(r.error ?? 'no metrics')); });
    process.send!({ type: METRICS_REQUEST, id });
  });
}

/** In the primary: answers workers' requests with the aggregate of every worker. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, m: { type?: string; id?: number }) => {
    if (m?.type !== METRICS_REQUEST) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: METRICS_REPLY, id: m.id, text }),
      (err: Error) => worker.send({ type: METRICS_REPLY, id: m.id, error: err.message }),
    );
  });
}

function send(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...extra });
  res.end(body);
}
