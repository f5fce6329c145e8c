// Matches addresses against the configured trusted proxy CIDRs (net.BlockList does the bit math).
import net from 'node:net';
import { normaliseIp } from './context.js';

export class TrustedProxies {
  private readonly list = new net.BlockList();
  readonly empty: boolean;

  constructor(cidrs: readonly string[]) {
    this.empty = cidrs.length === 0;
    for (const raw of cidrs) {
      const [addr = '', bits] = raw.trim().split('/');
      const type = net.isIPv6(addr) ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(addr, type);
      else this.list.addSubnet(addr, Number(bits), type);
    }
  }

  has(ip: string): boolean {
    if (this.empty) return false;
    const a = normaliseIp(ip.trim());
    const type = net.isIPv4(a) ? 'ipv4' : net.isIPv6(a) ? 'ipv6' : undefined;
    return type !== undefined && this.list.check(a, type);
  }
}
