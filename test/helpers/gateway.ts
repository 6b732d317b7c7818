import { Writable } from 'node:stream';
import { buildConfig, createLogger, startGateway, type RunningGateway } from '../../packages/gateway/src/index.js';

export interface TestGateway extends RunningGateway {
  /** Base URL for the openai SDK (`.../v1`). */
  baseURL: string;
  /** Log lines the gateway wrote, parsed. */
  logs: Array<Record<string, unknown>>;
}

/** Starts a gateway on a random loopback port with a config object; logs are captured, not printed. */
export async function startTestGateway(raw: Record<string, unknown>, opts: { baseDir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<TestGateway> {
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      cb();
    },
  });
  const config = buildConfig(withEnabledPlugins(raw), { baseDir: opts.baseDir ?? process.cwd(), env: opts.env ?? process.env });
  const running = await startGateway(config, { port: 0, host: '127.0.0.1', log: createLogger({ level: 'debug', destination }) });
  return Object.assign(running, { baseURL: `${running.url}/v1`, logs });
}

/**
 * Test configs list the plugins they mean to run: each entry without `enabled` gets `enabled: true`
 * (a user's config must say it; the rule itself is tested with `buildConfig` directly).
 */
function withEnabledPlugins(raw: Record<string, unknown>): Record<string, unknown> {
  if (!Array.isArray(raw.plugins)) return raw;
  return { ...raw, plugins: raw.plugins.map((p: unknown) => (p && typeof p === 'object' && !('enabled' in p) ? { enabled: true, ...p } : p)) };
}

/** A config with the built-in mock provider serving any model. */
export function mockConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { providers: { mock: { keys: [{ value: '', models: [] }] } }, ...extra };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, json, text };
}
