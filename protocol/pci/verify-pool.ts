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
 * The batching, the workers and their deaths are BatchWorkerPool's
 * (protocol/batch-worker-pool.ts): envelopes queued while every worker is busy go out
 * together, up to `maxBatch` per message, so the cost of postMessage is shared when it
 * matters (under load) and a lone envelope still goes out at once; each worker has at
 * most two batches in flight. This file is the packing (verify-batch.ts) and the replay
 * stage.
 *
 * Shell-like (it starts threads) but deterministic: results depend only on the bytes,
 * the time passed in and the verifier's state. Workers are unref'd while idle, so an
 * idle pool never keeps a process alive; close() stops them.
 */
import { availableParallelism } from 'node:os';
import { BatchWorkerPool } from '../batch-worker-pool.ts';
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

const DEFAULT_WORKER_URL = new URL('./verify-worker.ts', import.meta.url);

export class VerifyPool {
  readonly verifier: EnvelopeVerifier;
  readonly #pool: BatchWorkerPool<Item, VerifyResult, BatchRequest, BatchResponse>;

  private constructor(
    verifier: EnvelopeVerifier,
    pool: BatchWorkerPool<Item, VerifyResult, BatchRequest, BatchResponse>,
  ) {
    this.verifier = verifier;
    this.#pool = pool;
  }

  /** Starts `size` workers (default: one per core) and resolves once all have loaded. */
  static async create(size: number = availableParallelism(), opts: VerifyPoolOptions = {}): Promise<VerifyPool> {
    const verifier = opts.verifier ?? new EnvelopeVerifier(opts.policy);
    const init: WorkerInit = {
      policy: { ...verifier.policy },
      keyCacheSize: opts.keyCacheSize ?? defaultEd25519VerifierOptions.keyCacheSize,
    };
    const pool = await BatchWorkerPool.create<Item, VerifyResult, BatchRequest, BatchResponse>({
      size,
      workerUrl: opts.workerUrl ?? DEFAULT_WORKER_URL,
      workerData: init,
      // 256 rather than 64: under saturating load it lifts pool throughput from ~0.83 to
      // ~0.85 of cores x raw verify (bench:verify); a lone envelope still goes out alone.
      maxBatch: opts.maxBatch ?? 256,
      packing: { pack: packBatch, unpack: (res, items) => unpackAnswer(res, items, verifier.policy) },
      poolName: 'VerifyPool',
      workerName: 'verify',
    });
    return new VerifyPool(verifier, pool);
  }

  get size(): number {
    return this.#pool.size;
  }

  /** Envelopes waiting for a worker (not counting those being verified). */
  get queued(): number {
    return this.#pool.queued;
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
    const unavailable = this.#pool.unavailable;
    if (unavailable !== null) return Promise.reject(unavailable);
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
        const item: Item = { job, index: i, bytes: b, nowMs };
        this.#pool.enqueue(
          item,
          (result) => this.#finish(job, i, result, nowMs),
          (err) => fail(job, err),
        );
      }
    });
    return single ? promise.then((r) => r[0]!) : promise;
  }

  /** Stops every worker. Envelopes not yet verified are rejected with an Error. */
  close(): Promise<void> {
    return this.#pool.close();
  }

  #finish(job: Job, index: number, result: VerifyResult, nowMs: number): void {
    if (job.settled) return;
    job.results[index] = this.verifier.applyReplay(result, nowMs, { record: job.record });
    if (--job.remaining === 0) {
      job.settled = true;
      job.resolve(job.results);
    }
  }
}

function fail(job: Job, err: Error): void {
  if (job.settled) return;
  job.settled = true;
  job.reject(err);
}

/** A batch of envelopes as one transferred buffer with offsets and times (verify-batch.ts). */
function packBatch(items: readonly Item[], seq: number): { message: BatchRequest; transfer: ArrayBuffer[] } {
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
  return { message: { seq, buffer, offsets, nows }, transfer: [buffer] };
}

/** Each envelope's result (before the replay stage) from a worker's answer. */
function unpackAnswer(res: BatchResponse, items: readonly Item[], policy: PciPolicy): VerifyResult[] {
  const results: VerifyResult[] = new Array(items.length);
  let reason = 0;
  for (let i = 0; i < items.length; i++) {
    const s = res.status[i]!;
    if (s === ACCEPTED) {
      const bytes = new Uint8Array(res.buffer, res.offsets[i]!, res.offsets[i + 1]! - res.offsets[i]!);
      results[i] = accepted(res.ids.subarray(32 * i, 32 * i + 32), res.expiresAtMs[i]!, bytes, policy);
    } else {
      const result: VerifyResult = {
        ok: false,
        code: REJECT_CODE_LIST[(s & ~LOCAL_FLAG) - 1]!,
        reason: res.reasons[reason++]!,
      };
      if (s & LOCAL_FLAG) result.local = true;
      results[i] = result;
    }
  }
  return results;
}

/**
 * An accepted result whose `envelope` is decoded from the bytes when first read:
 * most callers only need the id. An own enumerable getter, so spreading or
 * JSON-serialising the result still includes it.
 */
function accepted(id: Uint8Array, expiresAtMs: number, bytes: Uint8Array, policy: PciPolicy): VerifyAccepted {
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
