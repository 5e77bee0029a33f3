/**
 * Ed25519 signature checks of (public key, 32-byte digest, signature) triples on worker
 * threads, so a validator's signature work (each request of each batch, each vote) is
 * spread over its cores instead of running on the event loop (consensus-service.ts).
 *
 * The batching, the workers and their deaths are BatchWorkerPool's
 * (protocol/batch-worker-pool.ts); this file is the packing: a batch is one transferred
 * buffer of 128-byte records, the answer one byte per record. A worker that dies fails
 * its checks (the caller then verifies on its own thread: the pool only ever saves
 * work) and is replaced.
 */
import { BatchWorkerPool } from '../../protocol/batch-worker-pool.ts';

/** One triple in a batch: key (32) ‖ digest (32) ‖ signature (64). */
export const RECORD_BYTES = 128;

export interface SignatureBatch {
  seq: number;
  buffer: ArrayBuffer;
  count: number;
}

export interface SignatureAnswer {
  seq: number;
  valid: Uint8Array;
}

export interface SignatureCheck {
  readonly publicKey: Uint8Array;
  readonly digest: Uint8Array;
  readonly signature: Uint8Array;
}

const WORKER_URL = new URL('./signature-worker.ts', import.meta.url);

const packing = {
  pack(checks: readonly SignatureCheck[], seq: number) {
    const buffer = new ArrayBuffer(checks.length * RECORD_BYTES);
    const packed = new Uint8Array(buffer);
    for (let i = 0; i < checks.length; i++) {
      const { publicKey, digest, signature } = checks[i]!;
      const at = i * RECORD_BYTES;
      packed.set(publicKey, at);
      packed.set(digest, at + 32);
      packed.set(signature, at + 64);
    }
    return { message: { seq, buffer, count: checks.length } satisfies SignatureBatch, transfer: [buffer] };
  },
  unpack(answer: SignatureAnswer, checks: readonly SignatureCheck[]): boolean[] {
    return checks.map((_, i) => answer.valid[i] === 1);
  },
};

export class SignaturePool {
  readonly #pool: BatchWorkerPool<SignatureCheck, boolean, SignatureBatch, SignatureAnswer>;

  private constructor(pool: BatchWorkerPool<SignatureCheck, boolean, SignatureBatch, SignatureAnswer>) {
    this.#pool = pool;
  }

  /** Starts `size` workers and resolves once all have loaded. */
  static async create(size: number, opts: { maxBatch?: number; keyCacheSize?: number } = {}): Promise<SignaturePool> {
    const pool = await BatchWorkerPool.create({
      size,
      workerUrl: WORKER_URL,
      workerData: { keyCacheSize: opts.keyCacheSize ?? 4096 },
      maxBatch: opts.maxBatch ?? 256,
      packing,
      poolName: 'SignaturePool',
      workerName: 'signature',
    });
    return new SignaturePool(pool);
  }

  get size(): number {
    return this.#pool.size;
  }

  /** Signature checks handed to the workers so far, for benchmarks and tests. */
  get verifications(): number {
    return this.#pool.sent;
  }

  /**
   * True only for a valid signature. Wrong lengths give false without a worker. Rejects
   * if the pool is closed or the worker checking it dies.
   */
  verify(check: SignatureCheck): Promise<boolean> {
    const unavailable = this.#pool.unavailable;
    if (unavailable !== null) return Promise.reject(unavailable);
    if (check.publicKey.length !== 32 || check.digest.length !== 32 || check.signature.length !== 64) {
      return Promise.resolve(false);
    }
    return new Promise<boolean>((resolve, reject) => this.#pool.enqueue(check, resolve, reject));
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
