// Real network partitions for tests: a network namespace joined to the host by veth pairs, each a
// /30 in 10.213.x.x that the test creates (and nothing else). Cutting a link sets its namespace end
// down: the host keeps its route, so packets to the namespace vanish (a SYN hangs, established
// connections go silent) as when a cable is pulled; healing sets it up again. Needs root (ip netns).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

async function ip(...args: string[]): Promise<string> {
  const { stdout } = await exec('ip', args, { timeout: 10_000 });
  return stdout;
}

/** Why namespaces cannot be used here, or null when they can (checked by creating and deleting one). */
export async function netnsUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add); run the tests as root to include the partition tests';
  const probe = `dbmprobe${process.pid % 100_000}`;
  try {
    await ip('netns', 'add', probe);
    await ip('netns', 'del', probe);
    return null;
  } catch (err) {
    return `ip netns add failed (${(err as Error).message.trim()}): partition tests need iproute2 and namespace support`;
  }
}

export interface VethLink {
  /** The host end's address (the namespace reaches the host through it). */
  hostAddress: string;
  /** The namespace end's address. */
  nsAddress: string;
  cut(): Promise<void>;
  heal(): Promise<void>;
}

export class Netns {
  private readonly links: Array<{ hostIf: string; nsIf: string }> = [];

  private constructor(
    readonly name: string,
    private readonly octet: number,
  ) {}

  /** A new namespace with loopback up; `tag` keeps names of one test apart from another's. */
  static async create(tag: string): Promise<Netns> {
    const name = `dbm${tag}${process.pid % 100_000}`;
    await ip('netns', 'del', name).catch(() => undefined); // left over by a killed run of this pid
    await ip('netns', 'add', name);
    const used = await ip('-4', 'addr', 'show');
    // A 10.213.x.0/24 no interface uses yet (parallel test processes pick by pid, then look further).
    let octet = process.pid % 200;
    for (let i = 0; i < 250 && used.includes(`10.213.${octet}.`); i++) octet = (octet + 1) % 250;
    const ns = new Netns(name, octet);
    await ns.exec('ip', 'link', 'set', 'lo', 'up');
    return ns;
  }

  private exec(...args: string[]): Promise<string> {
    return ip('netns', 'exec', this.name, ...args);
  }

  /** A veth pair into the namespace: the n-th link gets 10.213.x.(4n+1) on the host, .(4n+2) inside. */
  async addLink(): Promise<VethLink> {
    const n = this.links.length;
    const hostIf = `${this.name.slice(0, 11)}h${n}`;
    const nsIf = `${this.name.slice(0, 11)}n${n}`;
    const hostAddress = `10.213.${this.octet}.${4 * n + 1}`;
    const nsAddress = `10.213.${this.octet}.${4 * n + 2}`;
    await ip('link', 'del', hostIf).catch(() => undefined);
    await ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    this.links.push({ hostIf, nsIf });
    await ip('link', 'set', nsIf, 'netns', this.name);
    await ip('addr', 'add', `${hostAddress}/30`, 'dev', hostIf);
    await ip('link', 'set', hostIf, 'up');
    await this.exec('ip', 'addr', 'add', `${nsAddress}/30`, 'dev', nsIf);
    await this.exec('ip', 'link', 'set', nsIf, 'up');
    return {
      hostAddress,
      nsAddress,
      cut: async () => void (await this.exec('ip', 'link', 'set', nsIf, 'down')),
      heal: async () => void (await this.exec('ip', 'link', 'set', nsIf, 'up')),
    };
  }

  async destroy(): Promise<void> {
    for (const l of this.links) await ip('link', 'del', l.hostIf).catch(() => undefined);
    await ip('netns', 'del', this.name).catch(() => undefined);
  }
}
