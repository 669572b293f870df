// booking-api: API service of the booking example. Plain node:http, no dependencies.
import http from 'node:http';

const SERVICE = 'booking-api';
const VERSION = process.env.APP_VERSION || '1.0.0';
const PORT = Number(process.env.PORT || 8080);
// Upstream booking-inventory: INVENTORY_URL, else the Service env vars the kubelet injects (present when the
// Service existed before this pod started; the cluster has kube-proxy but no DNS).
const INVENTORY_URL = process.env.INVENTORY_URL ||
  (process.env.BOOKING_INVENTORY_SERVICE_HOST ? `http://${process.env.BOOKING_INVENTORY_SERVICE_HOST}:${process.env.BOOKING_INVENTORY_SERVICE_PORT || 8080}` : '');

const bookings = [
  { id: 1, room: 'A-101', guest: 'ada' },
  { id: 2, room: 'B-202', guest: 'linus' },
];

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

function send(res, status, obj) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(obj) + '\n');
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
    if (INVENTORY_URL) body.inventory = await fetchJson(INVENTORY_URL + '/');
    send(res, 200, body);
    return;
  }
  if (url.pathname === '/bookings') {
    send(res, 200, { service: SERVICE, version: VERSION, bookings });
    return;
  }
  send(res, 404, { service: SERVICE, error: 'not found', path: url.pathname });
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
