/**
 * Checkpoints every K sequence numbers: 2f+1 matching CHECKPOINTs make one stable, move the low watermark h and garbage-collect the log.
 * Functions of the replica's state (replica-core.ts); PbftReplica (replica.ts) calls them.
 */
import { stateDigest } from '../../protocol/pbft/sign.ts';
import type { PbftCheckpoint } from '../../protocol/pbft/types.ts';
import { ACCEPTED, type PbftOutcome, reject } from './output.ts';
import { sameDigest } from './quorum.ts';
import { hex, type ReplicaCore } from './replica-core.ts';
import { propose, snapshotBytes } from './replica-normal-case.ts';
import { broadcastStatus } from './replica-retransmission.ts';
import { checkReplicaSignature } from './validate.ts';

export function takeCheckpoint(core: ReplicaCore, seq: number): void {
  const snapshot = snapshotBytes(core);
  const digest = stateDigest(snapshot);
  core.ownCheckpoints.set(seq, { digest, snapshot });
  const cp = core.sign<PbftCheckpoint>({ type: 'checkpoint', seq, stateDigest: digest, replica: core.id });
  addCheckpoint(core, cp);
  core.send('all', cp);
  checkStable(core, seq);
}

export function addCheckpoint(core: ReplicaCore, cp: PbftCheckpoint): void {
  let bySender = core.checkpoints.get(cp.seq);
  if (bySender === undefined) {
    bySender = new Map();
    core.checkpoints.set(cp.seq, bySender);
  }
  bySender.set(cp.replica, cp);
}

export function onCheckpoint(core: ReplicaCore, cp: PbftCheckpoint): PbftOutcome {
  if (cp.seq % core.opts.checkpointInterval !== 0) {
    return reject('not-checkpoint-sequence', `${cp.seq} is not a multiple of ${core.opts.checkpointInterval}`);
  }
  if (cp.seq <= core.h) return reject('not-needed', `checkpoint ${cp.seq} is not above the stable ${core.h}`);
  // Far-ahead checkpoints are not kept (a Byzantine replica could fill memory with them);
  // a replica that far behind learns it from its peers' answers to its STATUS.
  if (cp.seq > core.h + 4 * core.opts.logWindow) {
    return reject('outside-watermarks', `checkpoint ${cp.seq} is beyond ${core.h + 4 * core.opts.logWindow}`);
  }
  if (cp.replica >= core.validators.n) return reject('unknown-replica', `replica ${cp.replica} is not a validator`);
  if (cp.replica === core.id) return reject('self', 'a checkpoint of this replica');
  const held = core.checkpoints.get(cp.seq)?.get(cp.replica);
  const sig = checkReplicaSignature(cp, core.validators, core.verifier);
  if (sig !== null) return reject(sig.reason, sig.detail);
  if (held !== undefined) {
    return sameDigest(held.stateDigest, cp.stateDigest)
      ? reject('duplicate', `checkpoint ${cp.seq} of replica ${cp.replica} already held`)
      : reject('conflicting-vote', `replica ${cp.replica} signed two states at ${cp.seq}`);
  }
  addCheckpoint(core, cp);
  checkStable(core, cp.seq);
  return ACCEPTED;
}

export function checkStable(core: ReplicaCore, seq: number): void {
  if (seq <= core.h) return;
  const bySender = core.checkpoints.get(seq);
  if (bySender === undefined) return;
  const groups = new Map<string, PbftCheckpoint[]>();
  for (const cp of bySender.values()) {
    const k = hex(cp.stateDigest);
    const g = groups.get(k) ?? [];
    g.push(cp);
    groups.set(k, g);
  }
  for (const group of groups.values()) {
    if (group.length < core.validators.quorum) continue;
    const proof = group.sort((a, b) => a.replica - b.replica).slice(0, core.validators.quorum);
    if (seq > core.knownStable) core.knownStable = seq;
    const own = core.ownCheckpoints.get(seq);
    if (own !== undefined && sameDigest(own.digest, group[0]!.stateDigest)) {
      makeStable(core, seq, proof, own.snapshot);
    } else if (own !== undefined) {
      core.out.events.push({ kind: 'checkpoint-mismatch', seq });
    } else if (core.lastExec < seq) {
      askForState(core);
    }
    return;
  }
}

export function makeStable(
  core: ReplicaCore,
  seq: number,
  proof: readonly PbftCheckpoint[],
  snapshot: Uint8Array,
): void {
  core.h = seq;
  core.stableProof = proof;
  core.stableSnapshot = snapshot;
  for (const s of core.slots.keys()) if (s <= seq) core.slots.delete(s);
  for (const s of core.checkpoints.keys()) if (s <= seq) core.checkpoints.delete(s);
  for (const s of core.ownCheckpoints.keys()) if (s < seq) core.ownCheckpoints.delete(s);
  for (const [k, v] of core.signed) if (v.seq <= seq) core.signed.delete(k);
  if (core.nextSeq <= seq) core.nextSeq = seq + 1;
  core.persist({ kind: 'stable', transfer: { type: 'state-transfer', proof, snapshot } });
  if (!core.replaying) core.out.events.push({ kind: 'stable-checkpoint', seq });
  propose(core, false);
}

/** Behind a stable checkpoint: a STATUS now (not at the next interval) makes peers send the state. */
export function askForState(core: ReplicaCore): void {
  if (core.replaying || core.now - core.fetchAskedAt < core.opts.statusIntervalMs) return;
  core.fetchAskedAt = core.now;
  broadcastStatus(core);
}
