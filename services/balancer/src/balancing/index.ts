// Builds the configured strategy by name.
import { createConsistentHash } from './consistent-hash.js';
import { createLeastOutstanding } from './least-outstanding.js';
import { createP2cEwma } from './p2c-ewma.js';
import { createRoundRobin } from './round-robin.js';
import type { Strategy } from './types.js';

export type StrategyName = 'p2c-ewma' | 'round-robin' | 'least-outstanding' | 'hash';

export function createStrategy(name: StrategyName): Strategy {
  switch (name) {
    case 'round-robin':
      return createRoundRobin();
    case 'least-outstanding':
      return createLeastOutstanding();
    case 'hash':
      // Requests without the cookie are spread by p2c; once the app sets it they stick.
      return createConsistentHash(createP2cEwma());
    case 'p2c-ewma':
      return createP2cEwma();
  }
}
export type { Strategy, Candidate, PickRequest } from './types.js';
