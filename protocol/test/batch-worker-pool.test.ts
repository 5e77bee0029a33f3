/**
 * BatchWorkerPool, the machinery under VerifyPool and SignaturePool, with a toy worker
 * (fixtures/square-worker.ts): results come back in item order across workers, queued
 * items share batches up to maxBatch, a worker that dies fails only its own items and
 * is replaced, one that cannot load fails create, and a closed pool refuses work.
 */
import { describe, expect, it } from 'vitest';
import { type BatchPacking, BatchWorkerPool } from '../batch-worker-pool.ts';
import type { SquareAnswer, SquareBatch } from './fixtures/square-worker.ts';

const WORKER = new URL('./fixtures/square-worker.ts', import.meta.url);

/** Packing that also records how many items each answered batch held. */
function squarePacking(batchSizes: number[]): BatchPacking<number, number, SquareBatch, SquareAnswer> {
  return {
    pack(items, seq) {
      const values = Float64Array.from(items);
      return { message: { seq, values }, transfer: [values.buffer] };
    },
    unpack(answer, items) {
      expect(answer.batchSize).toBe(items.length);
      batchSizes.push(answer.batchSize);
      return Array.from(answer.squares);
    },
  };
}

const create = (size: number, batchSizes: number[] = [], opts: { maxBatch?: number; workerData?: unknown } = {}) =>
  BatchWorkerPool.create({
    size,
    workerUrl: WORKER,
    workerData: opts.workerData,
    maxBatch: opts.maxBatch ?? 8,
    packing: squarePacking(batchSizes),
    poolName: 'SquarePool',
    workerName: 'square',
  });

const square = (pool: BatchWorkerPool<number, number, SquareBatch, SquareAnswer>, x: number): Promise<number> =>
  new Promise((resolve, reject) => pool.enqueue(x, resolve, reject));

describe('BatchWorkerPool', () => {
  it('answers every item in order, batching what queued in one tick up to maxBatch', async () => {
    const sizes: number[] = [];
    const pool = await create(2, sizes, { maxBatch: 8 });
    try {
      const xs = Array.from({ length: 100 }, (_, i) => i + 0.5);
      expect(await Promise.all(xs.map((x) => square(pool, x)))).toEqual(xs.map((x) => x * x));
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(100);
      expect(Math.max(...sizes)).toBe(8);
      expect(sizes.length).toBeLessThan(100 / 4); // shared batches, not one message per item
      expect(pool.sent).toBe(100);
      expect(pool.queued).toBe(0);
      // A lone item still goes out at once, alone.
      expect(await square(pool, 3)).toBe(9);
      expect(sizes.at(-1)).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('a worker that dies fails the items it held, is replaced, and the pool carries on', async () => {
    const pool = await create(1, [], { maxBatch: 1 });
    try {
      const doomed = square(pool, -1);
      await expect(doomed).rejects.toThrow(/square worker failed: square worker exited with code 3/);
      expect(await square(pool, 4)).toBe(16);
      expect(pool.size).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('a worker that cannot load makes create fail', async () => {
    await expect(create(2, [], { workerData: { failToLoad: true } })).rejects.toThrow(/cannot load the squarer/);
  });

  it('refuses bad sizes, and work once closed (queued items fail too)', async () => {
    await expect(create(0)).rejects.toThrow('size must be a positive integer, got 0');
    await expect(create(1, [], { maxBatch: 0 })).rejects.toThrow('maxBatch must be a positive integer, got 0');
    const pool = await create(1);
    const pending = square(pool, 2);
    const closing = pool.close();
    await expect(pending).rejects.toThrow('SquarePool is closed');
    await closing;
    expect(pool.unavailable?.message).toBe('SquarePool is closed');
    await expect(square(pool, 2)).rejects.toThrow('SquarePool is closed');
  });
});
