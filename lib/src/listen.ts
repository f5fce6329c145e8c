// Starting a server on a host:port and learning the port it got (port 0 = any free port, as tests use).
import type { AddressInfo, Server } from 'node:net';
import type { HostPort } from './config.js';

export async function listenOn(server: Server, at: HostPort): Promise<HostPort> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return { host: a.address, port: a.port };
}
