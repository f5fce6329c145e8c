// Reference floor, not a balancer: the least a Node proxy on undici can do per request (round
// robin, the client's headers plus X-Forwarded-For and Via, no health, retries, cache, limits,
// logs or metrics). The balancer's row is compared with it to show what its features cost.
import http from 'node:http';
import { Pool } from 'undici';

const [listen, ...targets] = process.argv.slice(2);
const pools = targets.map((t) => new Pool(t, { connections: 128, pipelining: 1 }));
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding']);
let i = 0;
http
  .createServer((req, res) => {
    const pool = pools[i++ % pools.length];
    const headers = [...req.rawHeaders, 'x-forwarded-for', req.socket.remoteAddress ?? '', 'via', '1.1 forwarder'];
    pool.dispatch(
      { method: req.method, path: req.url, headers, body: req.method === 'GET' || req.method === 'HEAD' ? null : req },
      {
        onConnect() {},
        onError() {
          if (!res.headersSent) res.writeHead(502);
          res.end();
        },
        onHeaders(status, raw, resume) {
          res.on('drain', resume);
          const out = [];
          for (let k = 0; k < raw.length; k += 2) {
            const name = raw[k].toString('latin1');
            if (!HOP.has(name.toLowerCase())) out.push(name, raw[k + 1].toString('latin1'));
          }
          res.writeHead(status, out);
          return true;
        },
        onData(chunk) {
          return res.write(chunk);
        },
        onComplete() {
          res.end();
        },
      },
    );
  })
  .listen(Number(listen), '127.0.0.1', () => process.stdout.write('ready\n'));
