// notes-api: the API of the notes example. It reads its notes from notes-store (a tiny HTTP file store);
// NOTES_ENV comes from the app-level env nh injects at install, STORE_URL from this container's install env.
import http from 'node:http';

const PORT = Number(process.env.PORT || 8080);
const STORE_URL = process.env.STORE_URL ||
  (process.env.NOTES_STORE_SERVICE_HOST ? `http://${process.env.NOTES_STORE_SERVICE_HOST}:${process.env.NOTES_STORE_SERVICE_PORT || 8080}` : '');

function readStore() {
  return new Promise((resolve) => {
    if (!STORE_URL) return resolve({ error: 'no STORE_URL' });
    http.get(`${STORE_URL}/notes.json`, { timeout: 1500 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => {
        try { resolve(JSON.parse(body)); } catch { resolve({ raw: body }); }
      });
    }).on('error', (err) => resolve({ error: err.message }));
  });
}

http.createServer(async (req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('ok\n');
  }
  const store = await readStore();
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ service: 'notes-api', env: process.env.NOTES_ENV || null, notes: store.notes ?? store }) + '\n');
}).listen(PORT, () => console.log(`notes-api listening on ${PORT}`));
