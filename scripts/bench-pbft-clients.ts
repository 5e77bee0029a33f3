/** The benchmark clients' keys and its replicas' hand-over, shared by `npm run bench:pbft` and its replica threads or processes. */
import { Ed25519Signer } from '../protocol/crypto/ed25519.ts';

/**
 * The signing key of saturation client `c`: distinct for every c (its index is in the
 * seed). Two clients sharing a key would send requests with the same (client, timestamp),
 * which the replicas rightly treat as one request, and one execution would answer both:
 * throughput would be overcounted (an earlier seed, (c * 13 + k + 5) mod 256, repeated
 * every 256 clients).
 */
export function saturationClient(c: number): Ed25519Signer {
  const seed = new Uint8Array(32).fill(0x5a);
  new DataView(seed.buffer).setUint32(0, c);
  return Ed25519Signer.fromSeed(seed);
}

/** The environment variable that hands a replica child process its ReplicaWorkerData (as JSON). */
export const REPLICA_DATA_ENV = 'BIZRA_BENCH_REPLICA';

/**
 * Low-load requests sent first and left out of the latencies (connections, code paths and
 * the WAL warm up): `--low` counts them, so it must be above this.
 */
export const LOW_LOAD_WARMUP = 10;
