/**
 * Ed25519 signature checks of (public key, 32-byte digest, signature) triples on worker
 * threads, so a validator's signature work (each request of each batch, each vote) is
 * spread over its cores instead of running on the event loop (consensus-service.ts).
 *
 * Triples queued while every worker is busy go out together, up to `maxBatch` per
 * message, packed into one transferred buffer; each worker has at most two batches in
 * flight, so it never idles between them. A worker that dies fails its batches (the
 * caller then verifies on its own thread: the pool only ever saves work) and is
 * replaced. Workers are unref'd while idle; close() stops them.
 */
import { Worker } from 'node:worker_threads';

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

interface Item {
  check: SignatureCheck;
  resolve: (valid: boolean) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  inFlight: Map<number, Item[]>;
}

const MAX_IN_FLIGHT = 2;
const WORKER_URL = new URL('./signature-worker.ts', import.meta.url);

export class SignaturePool {
  readonly #slots: Slot[] = [];
  readonly #queue: Item[] = [];
  readonly #maxBatch: number;
  readonly #keyCacheSize: number;
  #seq = 0;
  #flushScheduled = false;
  #closed = false;
  #broken: Error | null = null;

  private constructor(size: number, maxBatch: number, keyCacheSize: number) {
    this.#maxBatch = maxBatch;
    this.#keyCacheSize = keyCacheSize;
    for (let i = 0; i < size; i++) this.#slots.push(this.#spawn());
  }

  /** Starts `size` workers and resolves once all have loaded. */
  static async create(size: number, opts: { maxBatch?: number; keyCacheSize?: number } = {}): Promise<SignaturePool> {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`);
    const maxBatch = opts.maxBatch ?? 256;
    if (!Number.isInteger(maxBatch) || maxBatch < 1)
      throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
    const pool = new SignaturePool(size, maxBatch, opts.keyCacheSize ?? 4096);
    try {
      await Promise.all(pool.#slots.map((s) => ready(s.worker)));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.#slots.length;
  }

  /**
   * True only for a valid signature. Wrong lengths give false without a worker. Rejects
   * if the pool is closed or the worker checking it dies.
   */
  verify(check: SignatureCheck): Promise<boolean> {
    if (this.#closed) return Promise.reject(new Error('SignaturePool is closed'));
    if (this.#broken !== null) return Promise.reject(this.#broken);
    if (check.publicKey.length !== 32 || check.digest.length !== 32 || check.signature.length !== 64) {
      return Promise.resolve(false);
    }
    return new Promise<boolean>((resolve, reject) => {
      this.#queue.push({ check, resolve, reject });
      this.#scheduleFlush();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const err = new Error('SignaturePool is closed');
    for (const item of this.#queue.splice(0)) item.reject(err);
    await Promise.all(
      this.#slots.map((s) => {
        for (const items of s.inFlight.values()) for (const item of items) item.reject(err);
        s.inFlight.clear();
        return s.worker.terminate();
      }),
    );
  }

  #spawn(): Slot {
    const worker = new Worker(WORKER_URL, { workerData: { keyCacheSize: this.#keyCacheSize } });
    const slot: Slot = { worker, ready: false, inFlight: new Map() };
    worker.unref();
    worker.on('message', (msg: SignatureAnswer | 'ready') => {
      if (msg === 'ready') slot.ready = true;
      else this.#onAnswer(slot, msg);
    });
    worker.on('error', (err) => this.#onWorkerDeath(slot, err));
    worker.on('exit', (code) => {
      if (!this.#closed) this.#onWorkerDeath(slot, new Error(`signature worker exited with code ${code}`));
    });
    return slot;
  }

  #onWorkerDeath(slot: Slot, err: Error): void {
    const i = this.#slots.indexOf(slot);
    if (i < 0) return;
    const failure = new Error(`signature worker failed: ${err.message}`);
    for (const items of slot.inFlight.values()) for (const item of items) item.reject(failure);
    slot.inFlight.clear();
    if (this.#closed) return;
    void slot.worker.terminate();
    if (!slot.ready) {
      this.#broken = new Error(`signature worker could not start: ${err.message}`);
      for (const item of this.#queue.splice(0)) item.reject(this.#broken);
      return;
    }
    this.#slots[i] = this.#spawn();
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      let slot: Slot | undefined;
      for (const s of this.#slots) if (slot === undefined || s.inFlight.size < slot.inFlight.size) slot = s;
      if (slot === undefined || slot.inFlight.size >= MAX_IN_FLIGHT) return;
      const n = Math.min(this.#maxBatch, Math.max(1, Math.ceil(this.#queue.length / this.#slots.length)));
      this.#send(slot, this.#queue.splice(0, n));
    }
  }

  #send(slot: Slot, items: Item[]): void {
    const buffer = new ArrayBuffer(items.length * RECORD_BYTES);
    const packed = new Uint8Array(buffer);
    for (let i = 0; i < items.length; i++) {
      const { publicKey, digest, signature } = items[i]!.check;
      const at = i * RECORD_BYTES;
      packed.set(publicKey, at);
      packed.set(digest, at + 32);
      packed.set(signature, at + 64);
    }
    const seq = this.#seq++;
    slot.inFlight.set(seq, items);
    slot.worker.ref();
    slot.worker.postMessage({ seq, buffer, count: items.length } satisfies SignatureBatch, [buffer]);
  }

  #onAnswer(slot: Slot, res: SignatureAnswer): void {
    const items = slot.inFlight.get(res.seq);
    if (items === undefined) return;
    slot.inFlight.delete(res.seq);
    if (slot.inFlight.size === 0) slot.worker.unref();
    for (let i = 0; i < items.length; i++) items[i]!.resolve(res.valid[i] === 1);
    this.#dispatch();
  }
}

function ready(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: unknown) => {
      if (msg !== 'ready') return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      resolve();
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
}
