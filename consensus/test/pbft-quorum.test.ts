/** The quorum arithmetic and the prepared / committed-local predicates. */
import { describe, expect, it } from 'vitest';
import type { PbftCommit, PbftPrePrepare, PbftPrepare } from '../../protocol/pbft/types.ts';
import { resolvePbftOptions } from '../pbft/options.ts';
import { isCommittedLocal, isPrepared, maxFaulty, primaryOf, quorumSize, weakQuorumSize } from '../pbft/quorum.ts';
import { validatorSet } from '../pbft/validators.ts';

const D = new Uint8Array(32).fill(1);
const OTHER = new Uint8Array(32).fill(2);
const sig = new Uint8Array(64);
const pp: PbftPrePrepare = { type: 'pre-prepare', view: 0, seq: 1, digest: D, replica: 0, signature: sig };
const prepare = (replica: number, over: Partial<PbftPrepare> = {}): PbftPrepare => ({
  type: 'prepare',
  view: 0,
  seq: 1,
  digest: D,
  replica,
  signature: sig,
  ...over,
});
const commit = (replica: number, over: Partial<PbftCommit> = {}): PbftCommit => ({
  type: 'commit',
  view: 0,
  seq: 1,
  digest: D,
  replica,
  signature: sig,
  ...over,
});

describe('quorum arithmetic', () => {
  it('f = floor((n-1)/3), quorum ceil((n+f+1)/2) (2f+1 at n = 3f+1), weak quorum f+1', () => {
    const table = [1, 2, 3, 4, 5, 6, 7, 10, 16].map((n) => [n, maxFaulty(n), quorumSize(n), weakQuorumSize(n)]);
    expect(table).toEqual([
      [1, 0, 1, 1],
      [2, 0, 2, 1],
      [3, 0, 2, 1],
      [4, 1, 3, 2],
      [5, 1, 4, 2],
      [6, 1, 4, 2],
      [7, 2, 5, 3],
      [10, 3, 7, 4],
      [16, 5, 11, 6],
    ]);
    // Any two quorums intersect in at least f+1 replicas, at least one of them correct.
    for (let n = 1; n <= 40; n++) {
      expect(2 * quorumSize(n) - n).toBeGreaterThanOrEqual(maxFaulty(n) + 1);
      // ... and a quorum of correct replicas always exists: liveness with f silent.
      expect(quorumSize(n)).toBeLessThanOrEqual(n - maxFaulty(n));
      if (n === 3 * maxFaulty(n) + 1) expect(quorumSize(n)).toBe(2 * maxFaulty(n) + 1);
    }
    expect(() => maxFaulty(0)).toThrow(RangeError);
  });

  it('rotates the primary: v mod n', () => {
    expect([0, 1, 4, 5, 9].map((v) => primaryOf(v, 4))).toEqual([0, 1, 0, 1, 1]);
  });

  it('validator sets refuse duplicates and bad keys; options refuse a window that is not a multiple of K', () => {
    expect(() => validatorSet([D, D])).toThrow(/twice/);
    expect(() => validatorSet([new Uint8Array(31)])).toThrow(/32 bytes/);
    expect(() => validatorSet([])).toThrow(/empty/);
    expect(() => resolvePbftOptions({ checkpointInterval: 128, logWindow: 200 })).toThrow(/multiple/);
    expect(resolvePbftOptions().logWindow).toBe(256);
    expect(resolvePbftOptions().checkpointInterval).toBe(128);
  });
});

describe('prepared and committed-local (n = 4, f = 1)', () => {
  it('prepared needs the pre-prepare and 2f matching prepares from distinct backups', () => {
    expect(isPrepared(pp, [prepare(1), prepare(2)], 4)).toBe(true);
    expect(isPrepared(null, [prepare(1), prepare(2)], 4)).toBe(false);
    expect(isPrepared(pp, [prepare(1)], 4)).toBe(false);
    expect(isPrepared(pp, [prepare(1), prepare(1)], 4)).toBe(false); // one replica counts once
    expect(isPrepared(pp, [prepare(1), prepare(0)], 4)).toBe(false); // the primary's prepare does not count
    expect(isPrepared(pp, [prepare(1), prepare(2, { digest: OTHER })], 4)).toBe(false);
    expect(isPrepared(pp, [prepare(1), prepare(2, { view: 1 })], 4)).toBe(false);
    expect(isPrepared(pp, [prepare(1), prepare(2, { seq: 2 })], 4)).toBe(false);
  });

  it('committed-local needs prepared and 2f+1 matching commits from distinct replicas', () => {
    const prepares = [prepare(1), prepare(2)];
    expect(isCommittedLocal(pp, prepares, [commit(0), commit(1), commit(2)], 4)).toBe(true);
    expect(isCommittedLocal(pp, prepares, [commit(0), commit(1)], 4)).toBe(false);
    expect(isCommittedLocal(pp, prepares, [commit(0), commit(1), commit(1)], 4)).toBe(false);
    expect(isCommittedLocal(pp, prepares, [commit(0), commit(1), commit(2, { digest: OTHER })], 4)).toBe(false);
    expect(isCommittedLocal(pp, [prepare(1)], [commit(0), commit(1), commit(2)], 4)).toBe(false);
  });
});
