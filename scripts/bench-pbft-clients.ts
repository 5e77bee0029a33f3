/** The benchmark clients' keys and requests and its replicas' hand-over, shared by `npm run bench:pbft` and its validators. */
import { encodeKvOperation } from '../consensus/pbft/kv-app.ts';
import { Ed25519Signer } from '../protocol/crypto/ed25519.ts';
import { signRequest } from '../protocol/pbft/sign.ts';
import type { PbftRequest } from '../protocol/pbft/types.ts';

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

/**
 * One saturation client's requests (timestamps 1, 2, ...: each a put of its own key),
 * signed before the clock starts (a client signs on its own machine) and kept as bytes:
 * the operations in one buffer, the signatures in another. A request object is made
 * only when the client sends it, as a node makes one from each request it receives.
 *
 * Why not the signed objects themselves: a run signs hundreds of thousands of requests
 * (about 800,000 for six windows of 8 s at 2,048 clients), and as objects, each
 * with its own arrays, they were most of the primary's heap: over 500 MB that V8's
 * major collections marked through again and again (a tenth of a core in one run), a
 * cost no validator has, since its clients are elsewhere.
 */
export class SignedRequests {
  readonly #client: Uint8Array;
  readonly #operations: Uint8Array;
  /** Where operation i starts in #operations; entry `length` is its end. */
  readonly #starts: Uint32Array;
  readonly #signatures: Uint8Array;
  readonly length: number;

  private constructor(client: Uint8Array, operations: Uint8Array, starts: Uint32Array, signatures: Uint8Array) {
    this.#client = client;
    this.#operations = operations;
    this.#starts = starts;
    this.#signatures = signatures;
    this.length = starts.length - 1;
  }

  /** Saturation client `c`'s first `count` requests, signed. */
  static sign(c: number, count: number): SignedRequests {
    const signer = saturationClient(c);
    const operations: Uint8Array[] = [];
    const signatures = new Uint8Array(64 * count);
    const starts = new Uint32Array(count + 1);
    for (let i = 0; i < count; i++) {
      const r = signRequest(signer, i + 1, encodeKvOperation({ op: 'put', key: `c${c}`, value: String(i + 1) }));
      operations.push(r.operation);
      signatures.set(r.signature, 64 * i);
      starts[i + 1] = starts[i]! + r.operation.length;
    }
    // A plain Uint8Array over the concatenation: its subarrays are what a decoder hands out (not Buffers).
    const joined = Buffer.concat(operations);
    return new SignedRequests(
      signer.publicKey,
      new Uint8Array(joined.buffer, joined.byteOffset, joined.length),
      starts,
      signatures,
    );
  }

  /** Request `i` (0-based; its timestamp is i + 1), a fresh object over the kept bytes. */
  request(i: number): PbftRequest {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`no request ${i} of ${this.length}`);
    return {
      type: 'request',
      client: this.#client,
      timestamp: i + 1,
      operation: this.#operations.subarray(this.#starts[i]!, this.#starts[i + 1]!),
      signature: this.#signatures.subarray(64 * i, 64 * i + 64),
    };
  }
}
