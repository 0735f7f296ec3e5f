/**
 * The source of randomness injected into the sans-IO core (connection IDs, tokens, TLS randoms,
 * key shares). The Node shell passes `crypto.randomBytes`; the simulator passes a seeded PRNG so that
 * a run is reproducible from its seed.
 */
export type RandomBytes = (length: number) => Uint8Array;
