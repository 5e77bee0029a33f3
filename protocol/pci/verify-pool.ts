/**
 * EnvelopeVerifier's checks spread over worker threads, for a node that receives more
 * envelopes than one core verifies (about 13 k/s: Ed25519 verification is almost all
 * of the cost).
 *
 * Workers run checkEnvelope (R005, R007, R001, R002, R003, R004); the replay stage
 * (R006) runs here, in the calling thread, against the EnvelopeVerifier given (or one
 * of the pool's own), so a pool and a synchronous verifier sharing it see one set of
 * ids and give the same answers.
 *
 * Envelopes queued while every worker is busy go out together, up to `maxBatch` per
 * message, so the cost of postMessage is shared when it matters (under load) and a
 * lone envelope still goes out at once. Each worker has at most two batches in flight:
 * one being verified, one waiting, so it never idles between batches.
 *
 * Shell-like (it starts threads) but deterministic: results depend only on the bytes,
 * the time passed in and the verifier's state. Workers are unref'd while idle, so an
 * idle pool never keeps a process alive; close() stops them.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { defaultEd25519VerifierOptions } from '../crypto/ed25519.ts';
import type { DecodedEnvelope } from './fields.ts';
import type { PciPolicy } from './policy.ts';
import { REJECT_CODE_LIST } from './reject-codes.ts';
import {
  decodeEnvelope,
  EnvelopeVerifier,
  type VerifyAccepted,
  type VerifyOptions,
  type VerifyResult,
} from './verify.ts';
import { ACCEPTED, type BatchRequest, type BatchResponse, LOCAL_FLAG, type WorkerInit } from './verify-batch.ts';

export interface VerifyPoolOptions {
  /** Policy and replay cache to use (the pool applies R006 through it). Default: a new one with `policy`. */
  verifier?: EnvelopeVerifier;
  /** Used only when no verifier is given. */
  policy?: Partial<PciPolicy>;
  /** Most envelopes in one message to a worker (default 256). */
  maxBatch?: number;
  /** Public keys each worker caches (default 4096). */
  keyCacheSize?: number;
  /** The worker script (default ./verify-worker.ts); tests substitute one that crashes. */
  workerUrl?: URL;
}

interface Job {
  results: VerifyResult[];
  remaining: number;
  record: boolean;
  resolve: (results: VerifyResult[]) => void;
  reject: (err: Error) => void;
  settled: boolean;
}

interface Item {
  job: Job;
  index: number;
  bytes: Uint8Array;
  nowMs: number;
}

interface Slot {
  worker: Worker;
  /** Loaded (said 'ready'). A worker that dies before that is a broken install, not bad luck: no respawn. */
  ready: boolean;
  /** Batches sent and not answered, by seq. */
  inFlight: Map<number, Item[]>;
}

const MAX_IN_FLIGHT = 2;
const DEFAULT_WORKER_URL = new URL('./verify-worker.ts', import.meta.url);

export class VerifyPool {
  readonly verifier: EnvelopeVerifier;
  readonly #slots: Slot[] = [];
  readonly #queue: Item[] = [];
  readonly #maxBatch: number;
  readonly #init: WorkerInit;
  readonly #workerUrl: URL;
  #seq = 0;
  #flushScheduled = false;
  #closed = false;
  /** Set when a worker could not even load; every later verify fails with it. */
  #broken: Error | null = null;

  private constructor(size: number, opts: VerifyPoolOptions) {
    this.verifier = opts.verifier ?? new EnvelopeVerifier(opts.policy);
    // 256 rather than 64: under saturating load it lifts pool throughput from ~0.83 to
    // ~0.85 of cores x raw verify (bench:verify); a lone envelope still goes out alone.
    this.#maxBatch = opts.maxBatch ?? 256;
    if (!Number.isInteger(this.#maxBatch) || this.#maxBatch < 1) {
      throw new RangeError(`maxBatch must be a positive integer, got ${opts.maxBatch}`);
    }
    this.#workerUrl = opts.workerUrl ?? DEFAULT_WORKER_URL;
    this.#init = {
      policy: { ...this.verifier.policy },
      keyCacheSize: opts.keyCacheSize ?? defaultEd25519VerifierOptions.keyCacheSize,
    };
    for (let i = 0; i < size; i++) this.#slots.push(this.#spawn());
  }

  /** Starts `size` workers (default: one per core) and resolves once all have loaded. */
  static async create(size: number = availableParallelism(), opts: VerifyPoolOptions = {}): Promise<VerifyPool> {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`);
    const pool = new VerifyPool(size, opts);
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

  /** Envelopes waiting for a worker (not counting those being verified). */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Verifies like EnvelopeVerifier.verify, replay stage included; results in input
   * order. Rejects only if the pool is closed or a worker dies (it is then replaced).
   */
  verify(bytes: Uint8Array, nowMs: number, opts?: VerifyOptions): Promise<VerifyResult>;
  verify(bytes: readonly Uint8Array[], nowMs: number, opts?: VerifyOptions): Promise<VerifyResult[]>;
  verify(
    bytes: Uint8Array | readonly Uint8Array[],
    nowMs: number,
    opts: VerifyOptions = {},
  ): Promise<VerifyResult | VerifyResult[]> {
    if (this.#closed) return Promise.reject(new Error('VerifyPool is closed'));
    if (this.#broken !== null) return Promise.reject(this.#broken);
    if (!Number.isFinite(nowMs)) return Promise.reject(new TypeError(`nowMs must be a finite number, got ${nowMs}`));
    const single = !Array.isArray(bytes);
    const list = single ? [bytes as Uint8Array] : (bytes as readonly Uint8Array[]);
    const promise = new Promise<VerifyResult[]>((resolve, reject) => {
      const job: Job = {
        results: new Array(list.length),
        remaining: list.length,
        record: opts.record ?? true,
        resolve,
        reject,
        settled: false,
      };
      if (list.length === 0) {
        job.settled = true;
        resolve([]);
        return;
      }
      for (let i = 0; i < list.length; i++) {
        const b = list[i]!;
        if (!(b instanceof Uint8Array)) {
          // Judged here: a non-byte value cannot be packed into a batch.
          this.#finish(job, i, { ok: false, code: 'R005', reason: 'envelope must be bytes' }, nowMs);
          continue;
        }
        this.#queue.push({ job, index: i, bytes: b, nowMs });
      }
    });
    this.#scheduleFlush();
    return single ? promise.then((r) => r[0]!) : promise;
  }

  /** Stops every worker. Envelopes not yet verified are rejected with an Error. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const err = new Error('VerifyPool is closed');
    for (const item of this.#queue.splice(0)) this.#fail(item.job, err);
    await Promise.all(
      this.#slots.map((s) => {
        for (const items of s.inFlight.values()) for (const item of items) this.#fail(item.job, err);
        s.inFlight.clear();
        return s.worker.terminate();
      }),
    );
  }

  #spawn(): Slot {
    const worker = new Worker(this.#workerUrl, { workerData: this.#init });
    const slot: Slot = { worker, ready: false, inFlight: new Map() };
    worker.unref();
    worker.on('message', (msg: BatchResponse | 'ready') => {
      if (msg === 'ready') slot.ready = true;
      else this.#onResponse(slot, msg);
    });
    worker.on('error', (err) => this.#onWorkerDeath(slot, err));
    worker.on('exit', (code) => {
      if (!this.#closed) this.#onWorkerDeath(slot, new Error(`verify worker exited with code ${code}`));
    });
    return slot;
  }

  #onWorkerDeath(slot: Slot, err: Error): void {
    const i = this.#slots.indexOf(slot);
    if (i < 0) return; // already replaced (error is followed by exit)
    const failure = new Error(`verify worker failed: ${err.message}`);
    for (const items of slot.inFlight.values()) for (const item of items) this.#fail(item.job, failure);
    slot.inFlight.clear();
    if (this.#closed) return;
    void slot.worker.terminate();
    if (!slot.ready) {
      this.#broken = new Error(`verify worker could not start: ${err.message}`);
      for (const item of this.#queue.splice(0)) this.#fail(item.job, this.#broken);
      return;
    }
    this.#slots[i] = this.#spawn();
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // A microtask: calls made in the same tick share batches, and nothing waits for I/O.
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
      // Spread a small queue over the workers instead of handing it all to the first.
      const n = Math.min(this.#maxBatch, Math.max(1, Math.ceil(this.#queue.length / this.#slots.length)));
      this.#send(slot, this.#queue.splice(0, n));
    }
  }

  #send(slot: Slot, items: Item[]): void {
    let total = 0;
    for (const item of items) total += item.bytes.length;
    const buffer = new ArrayBuffer(total);
    const packed = new Uint8Array(buffer);
    const offsets = new Uint32Array(items.length + 1);
    const nows = new Float64Array(items.length);
    let at = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      offsets[i] = at;
      nows[i] = item.nowMs;
      packed.set(item.bytes, at);
      at += item.bytes.length;
    }
    offsets[items.length] = at;
    const seq = this.#seq++;
    slot.inFlight.set(seq, items);
    slot.worker.ref();
    const req: BatchRequest = { seq, buffer, offsets, nows };
    slot.worker.postMessage(req, [buffer]);
  }

  #onResponse(slot: Slot, res: BatchResponse): void {
    const items = slot.inFlight.get(res.seq);
    if (items === undefined) return;
    slot.inFlight.delete(res.seq);
    if (slot.inFlight.size === 0) slot.worker.unref();
    let reason = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const s = res.status[i]!;
      let result: VerifyResult;
      if (s === ACCEPTED) {
        const bytes = new Uint8Array(res.buffer, res.offsets[i]!, res.offsets[i + 1]! - res.offsets[i]!);
        result = this.#accepted(res.ids.subarray(32 * i, 32 * i + 32), res.expiresAtMs[i]!, bytes);
      } else {
        result = { ok: false, code: REJECT_CODE_LIST[(s & ~LOCAL_FLAG) - 1]!, reason: res.reasons[reason++]! };
        if (s & LOCAL_FLAG) result.local = true;
      }
      this.#finish(item.job, item.index, result, item.nowMs);
    }
    this.#dispatch();
  }

  /**
   * An accepted result whose `envelope` is decoded from the bytes when first read:
   * most callers only need the id. An own enumerable getter, so spreading or
   * JSON-serialising the result still includes it.
   */
  #accepted(id: Uint8Array, expiresAtMs: number, bytes: Uint8Array): VerifyAccepted {
    const policy = this.verifier.policy;
    const result = { ok: true, id, idHex: Buffer.from(id).toString('hex'), expiresAtMs } as VerifyAccepted;
    let envelope: DecodedEnvelope | undefined;
    Object.defineProperty(result, 'envelope', {
      enumerable: true,
      get(): DecodedEnvelope {
        if (envelope === undefined) {
          const d = decodeEnvelope(bytes, policy);
          // A worker accepted these very bytes under the same policy.
          if (!d.ok) throw new Error(`VerifyPool: accepted envelope no longer decodes: ${d.reason}`);
          envelope = d.envelope;
        }
        return envelope;
      },
    });
    return result;
  }

  #finish(job: Job, index: number, result: VerifyResult, nowMs: number): void {
    if (job.settled) return;
    job.results[index] = this.verifier.applyReplay(result, nowMs, { record: job.record });
    if (--job.remaining === 0) {
      job.settled = true;
      job.resolve(job.results);
    }
  }

  #fail(job: Job, err: Error): void {
    if (job.settled) return;
    job.settled = true;
    job.reject(err);
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
