/**
 * Work items spread over worker threads in batches: the machinery VerifyPool (PCI
 * envelopes, protocol/pci/verify-pool.ts) and SignaturePool (PBFT signature checks,
 * node/consensus/signature-pool.ts) share. What an item is, how a batch of them is
 * packed into one message (typed arrays in transferred buffers, so a batch costs two
 * postMessage calls and no per-item cloning) and how an answer is unpacked is the
 * caller's `BatchPacking`; the pool does the rest:
 *
 * - batching: items queued while every worker is busy go out together, up to
 *   `maxBatch` per message, a short queue split over the workers; a lone item still
 *   goes out at once (the flush is a microtask, so items queued in one tick share);
 * - at most two batches in flight per worker: one being worked on, one waiting, so a
 *   worker never idles between batches;
 * - worker death: a worker that dies fails the items of its batches (each item's
 *   `fail`) and is replaced; one that dies before it said 'ready' is a broken install,
 *   not bad luck, so it is not replaced and every later item fails too;
 * - workers are unref'd while idle, so an idle pool never keeps a process alive;
 *   close() stops them and fails what is left.
 *
 * A worker script posts the string 'ready' once loaded, then answers each request
 * message with one answer carrying the request's `seq`.
 */
import { Worker } from 'node:worker_threads';

/** How a batch of items travels to a worker and its answer back. */
export interface BatchPacking<I, R, Req, Res extends { readonly seq: number }> {
  /** The message that carries `items` as batch number `seq`, and the buffers it transfers. */
  pack(items: readonly I[], seq: number): { message: Req; transfer: readonly ArrayBuffer[] };
  /** The result of each item of an answered batch, in item order. */
  unpack(answer: Res, items: readonly I[]): readonly R[];
}

export interface BatchWorkerPoolOptions<I, R, Req, Res extends { readonly seq: number }> {
  /** Worker threads (at least 1). */
  size: number;
  workerUrl: URL;
  /** Passed to every worker as its workerData. */
  workerData?: unknown;
  /** Most items in one message to a worker (at least 1). */
  maxBatch: number;
  packing: BatchPacking<I, R, Req, Res>;
  /** Names the pool in errors: `${poolName} is closed`. */
  poolName: string;
  /** Names its workers in errors: `${workerName} worker failed: ...`. */
  workerName: string;
}

interface Entry<I, R> {
  readonly item: I;
  readonly settle: (result: R) => void;
  readonly fail: (err: Error) => void;
}

interface Slot<I, R> {
  worker: Worker;
  /** Loaded (said 'ready'). */
  ready: boolean;
  /** Batches sent and not answered, by seq. */
  inFlight: Map<number, Entry<I, R>[]>;
}

const MAX_IN_FLIGHT = 2;

export class BatchWorkerPool<I, R, Req, Res extends { readonly seq: number }> {
  readonly #opts: BatchWorkerPoolOptions<I, R, Req, Res>;
  readonly #slots: Slot<I, R>[] = [];
  readonly #queue: Entry<I, R>[] = [];
  #seq = 0;
  #sent = 0;
  #flushScheduled = false;
  #closed = false;
  /** Set when a worker could not even load; every later item fails with it. */
  #broken: Error | null = null;

  private constructor(opts: BatchWorkerPoolOptions<I, R, Req, Res>) {
    this.#opts = opts;
    for (let i = 0; i < opts.size; i++) this.#slots.push(this.#spawn());
  }

  /** Starts the workers and resolves once all have loaded; rejects (stopping them) if one cannot. */
  static async create<I, R, Req, Res extends { readonly seq: number }>(
    opts: BatchWorkerPoolOptions<I, R, Req, Res>,
  ): Promise<BatchWorkerPool<I, R, Req, Res>> {
    if (!Number.isInteger(opts.size) || opts.size < 1) {
      throw new RangeError(`size must be a positive integer, got ${opts.size}`);
    }
    if (!Number.isInteger(opts.maxBatch) || opts.maxBatch < 1) {
      throw new RangeError(`maxBatch must be a positive integer, got ${opts.maxBatch}`);
    }
    const pool = new BatchWorkerPool(opts);
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

  /** Items waiting for a worker (not counting those in flight). */
  get queued(): number {
    return this.#queue.length;
  }

  /** Items handed to workers so far. */
  get sent(): number {
    return this.#sent;
  }

  /** Why enqueue would fail at once (closed, or a worker could not load), or null. */
  get unavailable(): Error | null {
    if (this.#closed) return new Error(`${this.#opts.poolName} is closed`);
    return this.#broken;
  }

  /**
   * Queues one item: `settle` gets its result, or `fail` an Error if the pool is
   * closed (then at once) or the worker holding it dies.
   */
  enqueue(item: I, settle: (result: R) => void, fail: (err: Error) => void): void {
    const unavailable = this.unavailable;
    if (unavailable !== null) {
      fail(unavailable);
      return;
    }
    this.#queue.push({ item, settle, fail });
    this.#scheduleFlush();
  }

  /** Stops every worker; items not yet answered fail with `${poolName} is closed`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const err = new Error(`${this.#opts.poolName} is closed`);
    for (const e of this.#queue.splice(0)) e.fail(err);
    await Promise.all(
      this.#slots.map((s) => {
        for (const entries of s.inFlight.values()) for (const e of entries) e.fail(err);
        s.inFlight.clear();
        return s.worker.terminate();
      }),
    );
  }

  #spawn(): Slot<I, R> {
    const worker = new Worker(this.#opts.workerUrl, { workerData: this.#opts.workerData });
    const slot: Slot<I, R> = { worker, ready: false, inFlight: new Map() };
    worker.unref();
    worker.on('message', (msg: Res | 'ready') => {
      if (msg === 'ready') slot.ready = true;
      else this.#onAnswer(slot, msg);
    });
    worker.on('error', (err) => this.#onWorkerDeath(slot, err));
    worker.on('exit', (code) => {
      if (!this.#closed)
        this.#onWorkerDeath(slot, new Error(`${this.#opts.workerName} worker exited with code ${code}`));
    });
    return slot;
  }

  #onWorkerDeath(slot: Slot<I, R>, err: Error): void {
    const i = this.#slots.indexOf(slot);
    if (i < 0) return; // already replaced ('error' is followed by 'exit')
    const failure = new Error(`${this.#opts.workerName} worker failed: ${err.message}`);
    for (const entries of slot.inFlight.values()) for (const e of entries) e.fail(failure);
    slot.inFlight.clear();
    if (this.#closed) return;
    void slot.worker.terminate();
    if (!slot.ready) {
      this.#broken = new Error(`${this.#opts.workerName} worker could not start: ${err.message}`);
      for (const e of this.#queue.splice(0)) e.fail(this.#broken);
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
      let slot: Slot<I, R> | undefined;
      for (const s of this.#slots) if (slot === undefined || s.inFlight.size < slot.inFlight.size) slot = s;
      if (slot === undefined || slot.inFlight.size >= MAX_IN_FLIGHT) return;
      // Spread a short queue over the workers instead of handing it all to the first.
      const n = Math.min(this.#opts.maxBatch, Math.max(1, Math.ceil(this.#queue.length / this.#slots.length)));
      this.#send(slot, this.#queue.splice(0, n));
    }
  }

  #send(slot: Slot<I, R>, entries: Entry<I, R>[]): void {
    const seq = this.#seq++;
    const { message, transfer } = this.#opts.packing.pack(
      entries.map((e) => e.item),
      seq,
    );
    this.#sent += entries.length;
    slot.inFlight.set(seq, entries);
    slot.worker.ref();
    slot.worker.postMessage(message, transfer as ArrayBuffer[]);
  }

  #onAnswer(slot: Slot<I, R>, answer: Res): void {
    const entries = slot.inFlight.get(answer.seq);
    if (entries === undefined) return;
    slot.inFlight.delete(answer.seq);
    if (slot.inFlight.size === 0) slot.worker.unref();
    const results = this.#opts.packing.unpack(
      answer,
      entries.map((e) => e.item),
    );
    for (let i = 0; i < entries.length; i++) entries[i]!.settle(results[i]!);
    this.#dispatch();
  }
}

/** Resolves when a new worker reports it has loaded; rejects if it fails first. */
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
