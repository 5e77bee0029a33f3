/**
 * The arithmetic of PBFT (Castro & Liskov, OSDI '99) and its quorum predicates, as pure
 * functions over the votes a replica holds. n >= 3f + 1 replicas tolerate f Byzantine
 * ones; any two quorums share at least f + 1 replicas, so at least one correct.
 */
import type { PbftCommit, PbftPrePrepare, PbftPrepare, PbftVoteFields } from '../../protocol/pbft/types.ts';

/** f: the most Byzantine replicas n replicas tolerate. */
export function maxFaulty(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`validator count must be a positive integer, got ${n}`);
  return Math.floor((n - 1) / 3);
}

/**
 * The quorum: ceil((n + f + 1) / 2), which is 2f + 1 when n = 3f + 1 (the paper's case).
 * For other n, 2f + 1 is not enough: at n = 5 (f = 1) two quorums of 3 could share only
 * a Byzantine replica, at n = 2 or 3 (f = 0) two quorums of 1 need not meet at all. This
 * size makes any two quorums share f + 1 replicas, so at least one correct one.
 * COMMIT certificates, stable checkpoints and NEW-VIEW need this many.
 */
export function quorumSize(n: number): number {
  return Math.ceil((n + maxFaulty(n) + 1) / 2);
}

/** f + 1: at least one of them is correct (matching replies, joining a higher view). */
export function weakQuorumSize(n: number): number {
  return maxFaulty(n) + 1;
}

/** The primary of `view`: p = v mod n. */
export function primaryOf(view: number, n: number): number {
  return view % n;
}

export function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Distinct replicas (other than `exclude`) whose vote names exactly (view, seq, digest). */
export function matchingVoters(
  votes: Iterable<PbftVoteFields>,
  view: number,
  seq: number,
  digest: Uint8Array,
  exclude = -1,
): Set<number> {
  const voters = new Set<number>();
  for (const v of votes) {
    if (v.replica !== exclude && v.view === view && v.seq === seq && sameDigest(v.digest, digest))
      voters.add(v.replica);
  }
  return voters;
}

/**
 * prepared(m, v, n, i): the replica holds the PRE-PREPARE for (v, n, d) and 2f PREPAREs
 * (quorum - 1 in general) from distinct backups that match it: the primary's PRE-PREPARE
 * stands for its PREPARE, so its own PREPARE never counts. The replica's own counts.
 */
export function isPrepared(prePrepare: PbftPrePrepare | null, prepares: Iterable<PbftPrepare>, n: number): boolean {
  if (prePrepare === null) return false;
  const voters = matchingVoters(prepares, prePrepare.view, prePrepare.seq, prePrepare.digest, prePrepare.replica);
  return voters.size >= quorumSize(n) - 1;
}

/** committed-local(m, v, n, i): prepared, and 2f + 1 (a quorum of) matching COMMITs from distinct replicas (its own included). */
export function isCommittedLocal(
  prePrepare: PbftPrePrepare | null,
  prepares: Iterable<PbftPrepare>,
  commits: Iterable<PbftCommit>,
  n: number,
): boolean {
  if (prePrepare === null || !isPrepared(prePrepare, prepares, n)) return false;
  return matchingVoters(commits, prePrepare.view, prePrepare.seq, prePrepare.digest).size >= quorumSize(n);
}
