/**
 * What a NEW-VIEW must re-issue, computed from its VIEW-CHANGEs (Castro & Liskov §4.4).
 * The new primary builds its NEW-VIEW from this and every backup recomputes it from the
 * same VIEW-CHANGEs, refusing a NEW-VIEW that differs: a primary cannot drop or alter a
 * request that may have committed.
 *
 * min-s is the latest stable checkpoint among the VIEW-CHANGEs, max-s the highest
 * sequence with a prepared certificate. Every sequence in (min-s, max-s] gets the batch
 * digest of its highest-view certificate, or the null request (an empty batch) if none
 * has one. The plan names batches by digest only: each replica takes the batch from its
 * own log, or from a peer (replica-view-change.ts).
 */
import { batchDigest } from '../../protocol/pbft/sign.ts';
import type { PbftCheckpoint, PbftPreparedProof, PbftRequest, PbftViewChange } from '../../protocol/pbft/types.ts';

export interface NewViewEntry {
  readonly seq: number;
  readonly digest: Uint8Array;
}

export interface NewViewPlan {
  readonly checkpointSeq: number;
  readonly checkpointProof: readonly PbftCheckpoint[];
  readonly entries: readonly NewViewEntry[];
}

/** The null request: an empty batch, re-issued where no certificate names one. */
export const NULL_BATCH: readonly PbftRequest[] = Object.freeze([]);
/** The digest of the null request. */
export const NULL_DIGEST = batchDigest(NULL_BATCH);

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** The re-issue plan for VIEW-CHANGEs already checked (checkViewChange). */
export function planNewView(viewChanges: readonly PbftViewChange[]): NewViewPlan {
  let best: PbftViewChange | undefined;
  for (const vc of viewChanges) {
    if (best === undefined || vc.checkpointSeq > best.checkpointSeq) best = vc;
  }
  const minS = best?.checkpointSeq ?? 0;
  const chosen = new Map<number, PbftPreparedProof>();
  for (const vc of viewChanges) {
    for (const c of vc.prepared) {
      const seq = c.prePrepare.seq;
      if (seq <= minS) continue;
      const held = chosen.get(seq);
      // Highest view wins; two certificates of one view for different batches cannot both
      // exist with at most f faulty replicas, but the tie is broken deterministically anyway.
      if (
        held === undefined ||
        c.prePrepare.view > held.prePrepare.view ||
        (c.prePrepare.view === held.prePrepare.view && compareBytes(c.prePrepare.digest, held.prePrepare.digest) < 0)
      ) {
        chosen.set(seq, c);
      }
    }
  }
  let maxS = minS;
  for (const seq of chosen.keys()) if (seq > maxS) maxS = seq;
  const entries: NewViewEntry[] = [];
  for (let seq = minS + 1; seq <= maxS; seq++) {
    const c = chosen.get(seq);
    entries.push({ seq, digest: c === undefined ? NULL_DIGEST : c.prePrepare.digest });
  }
  return { checkpointSeq: minS, checkpointProof: best?.checkpointProof ?? [], entries };
}
