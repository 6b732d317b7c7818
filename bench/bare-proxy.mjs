// The floor: a bare node:http pass-through proxy with a keep-alive agent. Copies method, path and
// headers (minus hop-by-hop ones), pipes the request body up and the response (status, headers,
// body or SSE) back. It parses nothing; it is the least a Node gateway can cost.
// Usage: node bench/bare-proxy.mjs --port N --upstream http://127.0.0.1:M
import http from 'node:http';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const port = Number(arg('port', process.env.PORT ?? 9100));
const upstream = new URL(arg('upstream', process.env.UPSTREAM ?? 'http://127.0.0.1:9001'));
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' });
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

function strip(h) {
  const out = {};
  for (const k in h) if (!HOP.has(k)) out[k] = h[k];
  return out;
}

const server = http.createServer((req, res) => {
  const up = http.request({
    agent, host: upstream.hostname, port: upstream.port, method: req.method, path: req.url,
    headers: { ...strip(req.headers), host: upstream.host },
  }, (ur) => {
    res.writeHead(ur.statusCode ?? 502, strip(ur.headers));
    ur.pipe(res);
  });
  up.on('error', (err) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: err.message } }));
  });
  req.pipe(up);
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
