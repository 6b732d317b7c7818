// Throw-away Redis and PostgreSQL servers on loopback for the test suite. scripts/run-tests.mjs
// starts them when GATEHOUSE_TEST_REDIS_URL / GATEHOUSE_TEST_PG_URL are not already set, and tests
// that need to kill and restart a server (failover tests) call startRedis()/startPostgres() themselves.
// The binaries come from Debian (redis-server, postgresql: see .ci/install-toolchains.sh); a missing
// binary leaves the variable unset, and the tests that need it fail saying so.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, chownSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function which(bin) {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

async function waitFor(check, what, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not become ready in ${timeoutMs} ms${last ? `: ${last.message}` : ''}`);
}

function redisPing(port) {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('error', () => resolve(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (d) => {
      sock.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}

/** Starts redis-server on a free loopback port (or the given one). Returns { url, port, stop(), kill() }. */
export async function startRedis({ port } = {}) {
  const bin = which('redis-server');
  if (!bin) throw new Error('redis-server is not installed (apt-get install redis-server; see .ci/install-toolchains.sh)');
  port ??= await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gh-redis-'));
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  await waitFor(() => redisPing(port), `redis-server on port ${port}`);
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid, stop };
}

function postgresBin() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin');
  return undefined;
}

/** Starts a fresh PostgreSQL cluster on a free loopback port. Returns { url, port, stop() }. */
export async function startPostgres({ port } = {}) {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql; see .ci/install-toolchains.sh)');
  port ??= await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gh-pg-'));
  // PostgreSQL refuses to run as root: run it as the Debian package's `postgres` user then.
  const ids = {};
  if (userInfo().uid === 0) {
    ids.uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    ids.gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, ids.uid, ids.gid);
  }
  const data = join(dir, 'data');
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'], {
    encoding: 'utf8', cwd: dir, ...ids,
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const child = spawn(join(bin, 'postgres'), [
    '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
  ], { stdio: 'ignore', cwd: dir, ...ids });
  const ready = join(bin, 'pg_isready');
  await waitFor(
    () => spawnSync(ready, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres']).status === 0,
    `postgres on port ${port}`,
    60_000,
  );
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT'); // fast shutdown
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, stop };
}

/** Starts what is missing from the environment; returns the env additions and a stop function. */
export async function startTestServices(log = (m) => console.error(m)) {
  const env = {};
  const stops = [];
  if (!process.env.GATEHOUSE_TEST_REDIS_URL) {
    try {
      const r = await startRedis();
      env.GATEHOUSE_TEST_REDIS_URL = r.url;
      stops.push(r.stop);
      log(`test services: redis at ${r.url}`);
    } catch (err) {
      log(`test services: no Redis (${err.message}); tests that need it will fail`);
    }
  }
  if (!process.env.GATEHOUSE_TEST_PG_URL) {
    try {
      const p = await startPostgres();
      env.GATEHOUSE_TEST_PG_URL = p.url;
      stops.push(p.stop);
      log(`test services: postgres at ${p.url}`);
    } catch (err) {
      log(`test services: no PostgreSQL (${err.message}); tests that need it will fail`);
    }
  }
  return { env, stop: () => Promise.allSettled(stops.map((s) => s())) };
}
