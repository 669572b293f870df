// booking-web: front-end service of the booking example. Plain node:http, no dependencies.
import http from 'node:http';

const SERVICE = 'booking-web';
const VERSION = process.env.APP_VERSION || '1.0.0';
const PORT = Number(process.env.PORT || 8080);
// Upstream booking-api: API_URL, else the Service env vars the kubelet injects (BOOKING_API_SERVICE_HOST/PORT,
// present when the Service existed before this pod started; the cluster has kube-proxy but no DNS).
const API_URL = process.env.API_URL ||
  (process.env.BOOKING_API_SERVICE_HOST ? `http://${process.env.BOOKING_API_SERVICE_HOST}:${process.env.BOOKING_API_SERVICE_PORT || 8080}` : '');

function fetchJson(url, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => {
        try { resolve(JSON.parse(body)); } catch { resolve({ raw: body }); }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ error: err.message }));
  });
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url || '/', 'http://localhost');
  if (url.pathname === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  if (url.pathname === '/') {
    const body = { service: SERVICE, version: VERSION, hostname: process.env.HOSTNAME || '' };
    if (API_URL) body.api = await fetchJson(API_URL + '/');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body) + '\n');
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ service: SERVICE, error: 'not found', path: url.pathname }) + '\n');
});

server.listen(PORT, '0.0.0.0', () => {
  console.log(`${SERVICE} ${VERSION} listening on :${PORT}`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    console.log(`${SERVICE} received ${sig}, shutting down`);
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
