// Bench backend (plain JS, no TypeScript loader): a 2 KB HTML page on 127.0.0.1:<port>.
// /cached is marked cacheable for the edge cache (s-maxage). Prints "ready" when listening.
import http from 'node:http';

const port = Number(process.argv[2]);
const page = Buffer.from(`<!doctype html><html><head><title>Dramble</title></head><body>${'<p>Raspberry Pi Dramble.</p>'.repeat(80)}`.slice(0, 2048));
const plain = { 'content-type': 'text/html; charset=utf-8', 'content-length': page.length, 'cache-control': 'no-store' };
const cached = { ...plain, 'cache-control': 'public, s-maxage=300' };

http
  .createServer((req, res) => {
    res.writeHead(200, req.url === '/cached' ? cached : plain);
    res.end(page);
  })
  .listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
