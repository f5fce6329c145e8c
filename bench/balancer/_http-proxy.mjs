// http-proxy 1.18 as a balancer for comparison: round robin over the backends, keep-alive agent.
import http from 'node:http';
import httpProxy from 'http-proxy';

const [listen, ...targets] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
const proxy = httpProxy.createProxyServer({ agent, xfwd: true });
proxy.on('error', (_err, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502);
  res.end();
});
let i = 0;
http
  .createServer((req, res) => proxy.web(req, res, { target: targets[i++ % targets.length] }))
  .listen(Number(listen), '127.0.0.1', () => process.stdout.write('ready\n'));
