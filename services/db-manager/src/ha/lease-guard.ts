// The check a leader makes before each mutating statement: recovery code builds every such statement
// from the dialect (fence, unfence, CHANGE MASTER, START/STOP/RESET SLAVE, semi-sync), so a dialect
// whose statement getters first ask "do I still hold the lease?" checks immediately before each one
// runs, without threading a check through every recovery file.
import type { Flavor } from '../flavor/types.js';

export class LeaseLostError extends Error {
  constructor(what: string) {
    super(`this manager no longer holds the leader lease: refused to ${what}`);
    this.name = 'LeaseLostError';
  }
}

/** The flavor's read-only members are passed through; its mutating statements throw once the lease is gone. */
const MUTATING: ReadonlyArray<keyof Flavor> = ['fence', 'unfence', 'startReplica', 'stopReplica', 'stopIoThread', 'resetReplicaAll', 'changeSource', 'semiSyncEnable', 'semiSyncSource', 'replicaNetTimeoutSql', 'replicationGrant'];

export function guardedFlavor(flavor: Flavor, holdsLease: () => boolean): Flavor {
  return new Proxy(flavor, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && (MUTATING as readonly string[]).includes(prop) && !holdsLease()) throw new LeaseLostError(`run ${prop}`);
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}
