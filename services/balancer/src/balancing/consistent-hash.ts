// Consistent hashing for stickiness (cookie value or client IP) by rendezvous hashing (HRW): every
// backend scores hash(key, id) and the highest wins. When a backend leaves only its own keys move;
// when one joins it takes ~1/n of the keys. Weight scales the score (weighted HRW).
import type { Candidate, PickRequest, Strategy } from './types.js';

/** 32-bit FNV-1a, then a murmur3 finaliser for avalanche. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function createConsistentHash(fallback: Strategy): Strategy {
  return {
    name: 'hash',
    pick<C extends Candidate>(candidates: readonly C[], request: PickRequest): C | undefined {
      if (request.hashKey === undefined || request.hashKey === '') return fallback.pick(candidates, request);
      let best: C | undefined;
      let bestScore = -Infinity;
      for (const c of candidates) {
        // Uniform in (0,1); weighted HRW score = -w / ln(u).
        const u = (hash32(`${request.hashKey}\u0000${c.id}`) + 1) / 4294967297;
        const score = -Math.max(c.weight, 0.01) / Math.log(u);
        if (score > bestScore) {
          bestScore = score;
          best = c;
        }
      }
      return best;
    },
  };
}
