// Starting a server on a host:port and learning the port it got (port 0 = any free port, as tests use).
import type { AddressInfo, Server } from 'node:net';
import type { HostPort } from './config.js';

/** `exclusive`: in a node:cluster worker, bind a socket of its own instead of sharing the primary's. */
export async function listenOn(server: Server, at: HostPort, options: { exclusive?: boolean } = {}): Promise<HostPort> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: at.port, host: at.host, exclusive: options.exclusive ?? false }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return { host: a.address, port: a.port };
}
