/**
 * STATUS messages and what peers send back to a replica that lost something: the NEW-VIEW, VIEW-CHANGEs, commit certificates of executed batches, lost votes, and a state transfer (the stable checkpoint's snapshot and proof) to one below the stable checkpoint.
 * Functions of the replica's state (replica-core.ts); PbftReplica (replica.ts) calls them.
 */
import { decodeSnapshot } from '../../protocol/pbft/codec.ts';
import { stateDigest } from '../../protocol/pbft/sign.ts';
import type {
  PbftCommitCertificate,
  PbftStateTransfer,
  PbftStatus,
  PbftStatusSlot,
  PbftViewChange,
} from '../../protocol/pbft/types.ts';
import { ACCEPTED, type PbftOutcome, reject } from './output.ts';
import { sameDigest } from './quorum.ts';
import { makeStable } from './replica-checkpoints.ts';
import { hex, type ReplicaCore, type Slot } from './replica-core.ts';
import { executeReady } from './replica-normal-case.ts';
import { cancelViewChangeTimer, missingViewChanges } from './replica-view-change.ts';
import { checkCheckpointProof, checkCommitCertificate, checkReplicaSignature, type Problem } from './validate.ts';

export function broadcastStatus(core: ReplicaCore): void {
  const status = core.sign<PbftStatus>({
    type: 'status',
    view: core.view,
    active: core.active,
    lastExecuted: core.lastExec,
    stableCheckpoint: core.h,
    missingBatches: missingBatches(core),
    missingViewChanges: missingViewChanges(core),
    slots: statusSlots(core),
    replica: core.id,
  });
  core.send('all', status);
  core.out.timers.push({ timer: 'status', atMs: core.now + core.opts.statusIntervalMs });
}

/** True (and noted) if this replica has not re-sent its NEW-VIEW or VIEW-CHANGE of this view to `peer` within the base view-change timeout. */
function resendDue(core: ReplicaCore, peer: number): boolean {
  const last = core.viewResentAt.get(peer);
  if (last !== undefined && last.view === core.view && core.now - last.atMs < core.opts.viewChangeTimeoutMs)
    return false;
  core.viewResentAt.set(peer, { view: core.view, atMs: core.now });
  return true;
}

/** The VIEW-CHANGE of replica `r` for a view at or above `view` that this replica holds, if any. */
function viewChangeFor(core: ReplicaCore, r: number, view: number): PbftViewChange | null {
  if (core.newView !== null && core.newView.view >= view) {
    const vc = core.newViewChanges.find((v) => v.replica === r);
    if (vc !== undefined) return vc;
  }
  const vc = core.viewChanges.get(r);
  return vc !== undefined && vc.newView >= view ? vc : null;
}

/** This view's slots above the last executed sequence number, in order; none while waiting for a NEW-VIEW. */
function* slotsInProgress(core: ReplicaCore): Generator<Slot> {
  if (!core.active) return;
  const top = core.h + core.opts.logWindow;
  for (let seq = core.lastExec + 1; seq <= top; seq++) {
    const slot = core.slots.get(seq);
    if (slot !== undefined) yield slot;
  }
}

/** Sequence numbers whose re-issued PRE-PREPARE waits here for a batch (at most a retransmission budget). */
export function missingBatches(core: ReplicaCore): number[] {
  const seqs: number[] = [];
  for (const slot of slotsInProgress(core)) {
    if (seqs.length >= core.opts.maxRetransmit) break;
    if (slot.prePrepare !== null && slot.batch === null && slot.committed === null) seqs.push(slot.seq);
  }
  return seqs;
}

/** A bitmap over the validators with the bits of `replicas` set, without trailing zero bytes. */
export function voteBitmap(replicas: readonly number[]): Uint8Array {
  const top = replicas.length === 0 ? -1 : Math.max(...replicas);
  const b = new Uint8Array(top < 0 ? 0 : (top >> 3) + 1);
  for (const r of replicas) b[r >> 3]! |= 1 << (r & 7);
  return b;
}

const hasBit = (b: Uint8Array | undefined, r: number): boolean =>
  b !== undefined && r >> 3 < b.length && (b[r >> 3]! & (1 << (r & 7))) !== 0;

/**
 * What this replica holds of each sequence number in progress here in its view (at most a
 * retransmission budget of them): a peer answering its STATUS re-sends only the rest.
 * Without it every peer re-sent all its votes of every such sequence number to a replica
 * whose execution had not moved for a STATUS interval, most of which it held already.
 */
export function statusSlots(core: ReplicaCore): PbftStatusSlot[] {
  const out: PbftStatusSlot[] = [];
  for (const slot of slotsInProgress(core)) {
    if (out.length >= core.opts.maxRetransmit) break;
    const prePrepared = slot.prePrepare !== null && slot.batch !== null;
    if (!prePrepared && slot.prepares.size === 0 && slot.commits.size === 0) continue;
    out.push({
      seq: slot.seq,
      prePrepared,
      prepares: voteBitmap([...slot.prepares.keys()]),
      commits: voteBitmap([...slot.commits.keys()]),
    });
  }
  return out;
}

export function onStatus(core: ReplicaCore, s: PbftStatus): PbftOutcome {
  if (s.replica >= core.validators.n) return reject('unknown-replica', `replica ${s.replica} is not a validator`);
  if (s.replica === core.id) return reject('self', 'a status of this replica');
  const sig = checkReplicaSignature(s, core.validators, core.verifier);
  if (sig !== null) return reject(sig.reason, sig.detail);
  const to = s.replica;
  const stuck = core.peerExecuted.get(to) === s.lastExecuted;
  core.peerExecuted.set(to, s.lastExecuted);
  // Views: a replica left in an older view, or still waiting in ours, gets the NEW-VIEW;
  // one below us while we wait gets our VIEW-CHANGE (its f+1 rule, the new primary's
  // quorum). Each at most once per base view-change timeout to one peer: every replica
  // answers every STATUS, and a lagging replica got them from each peer twice a second
  // (a VIEW-CHANGE is tens of kilobytes at n = 16; a NEW-VIEW carried 2f+1 of them until
  // it named them by digest).
  // A peer that lists missing VIEW-CHANGEs holds a NEW-VIEW already: it gets those instead.
  const holdsNewView = s.missingViewChanges.length > 0;
  if (
    !holdsNewView &&
    core.active &&
    core.newView !== null &&
    (s.view < core.view || (s.view === core.view && !s.active))
  ) {
    if (resendDue(core, to)) core.send(to, core.newView);
  }
  if (!core.active && core.myViewChange !== null && !(s.view === core.view && s.active) && s.view <= core.view) {
    if (resendDue(core, to)) core.send(to, core.myViewChange);
  }
  // VIEW-CHANGEs its held-back NEW-VIEW names: the primary (which holds them all) and each
  // one's signer send them, not every replica (each is tens of kilobytes at n = 16); and at
  // most once per STATUS interval to one peer, or 200-byte STATUSes (from a faulty peer,
  // say) would each fetch hundreds of kilobytes. (Once per base timeout, like the NEW-VIEW,
  // cost the simulator's lossy runs more view changes: 5,560 against 5,428 in 1,000 seeds.)
  const wanted: PbftViewChange[] = [];
  for (const r of s.missingViewChanges) {
    if (!core.isPrimary && r !== core.id) continue;
    const vc = viewChangeFor(core, r, s.view);
    if (vc !== null) wanted.push(vc);
  }
  const last = core.viewChangesSentAt.get(to);
  if (wanted.length > 0 && (last === undefined || core.now - last >= core.opts.statusIntervalMs)) {
    core.viewChangesSentAt.set(to, core.now);
    for (const vc of wanted) core.send(to, vc);
  }
  const behind = s.lastExecuted < core.h;
  if (behind && core.stableSnapshot !== null) {
    core.send(to, { type: 'state-transfer', proof: core.stableProof, snapshot: core.stableSnapshot });
  }
  let budget = core.opts.maxRetransmit;
  // Batches it lacks for PRE-PREPAREs of this view (a NEW-VIEW names them by digest):
  // every replica holding one answers, as the peer cannot know which of them do.
  if (core.active && s.active && s.view === core.view) {
    for (const seq of s.missingBatches) {
      if (budget === 0) break;
      const slot = core.slots.get(seq);
      if (slot?.prePrepare == null || slot.batch === null) continue;
      core.send(to, { type: 'proposal', prePrepare: slot.prePrepare, batch: slot.batch });
      budget--;
    }
  }
  if (!stuck && !behind) return ACCEPTED;
  // Lost CHECKPOINTs: without them its low watermark stays put and its window shuts.
  if (s.stableCheckpoint < core.h) for (const cp of core.stableProof) core.send(to, cp);
  for (const [seq, bySender] of core.checkpoints) {
    const own = bySender.get(core.id);
    if (seq > s.stableCheckpoint && own !== undefined) core.send(to, own);
  }
  for (let seq = Math.max(s.lastExecuted, core.h) + 1; seq <= core.lastExec && budget > 0; seq++) {
    const committed = core.slots.get(seq)?.committed;
    if (committed == null) break;
    core.send(to, committed);
    budget--;
  }
  if (!(core.active && s.active && s.view === core.view)) return ACCEPTED;
  // Lost votes of sequence numbers still in progress here: those its STATUS does not say
  // it holds (a sequence number it does not describe, it holds nothing of).
  const described = new Map<number, PbftStatusSlot>();
  for (const x of s.slots) described.set(x.seq, x);
  const top = core.h + core.opts.logWindow;
  for (let seq = Math.max(s.lastExecuted, core.lastExec) + 1; seq <= top && budget > 0; seq++) {
    const slot = core.slots.get(seq);
    if (slot === undefined) continue;
    const held = described.get(seq);
    if (core.isPrimary && slot.prePrepare !== null && slot.batch !== null && held?.prePrepared !== true) {
      core.send(to, { type: 'proposal', prePrepare: slot.prePrepare, batch: slot.batch });
      budget--;
    }
    const prepare = slot.prepares.get(core.id);
    if (prepare !== undefined && !hasBit(held?.prepares, core.id)) {
      core.send(to, prepare);
      budget--;
    }
    const commit = slot.commits.get(core.id);
    if (commit !== undefined && !hasBit(held?.commits, core.id)) {
      core.send(to, commit);
      budget--;
    }
  }
  return ACCEPTED;
}

export function onCommitCertificate(core: ReplicaCore, c: PbftCommitCertificate): PbftOutcome {
  const first = c.commits[0];
  if (first === undefined) return reject('bad-commit-certificate', 'no commits');
  if (first.seq <= core.lastExec) return reject('not-needed', `sequence ${first.seq} is already executed`);
  if (!core.inWindow(first.seq)) {
    return reject(
      'outside-watermarks',
      `sequence ${first.seq} is outside (${core.h}, ${core.h + core.opts.logWindow}]`,
    );
  }
  if (core.slots.get(first.seq)?.committed != null)
    return reject('duplicate', `sequence ${first.seq} is committed here`);
  const bad = checkCommitCertificate(c, core.validators, core.verifier);
  if (bad !== null) return reject(bad.reason, bad.detail);
  core.slot(first.seq).committed = c;
  executeReady(core);
  return ACCEPTED;
}

export function onStateTransfer(core: ReplicaCore, t: PbftStateTransfer): PbftOutcome {
  const seq = t.proof[0]?.seq ?? 0;
  if (seq === 0) return reject('bad-checkpoint-proof', 'a state transfer needs a checkpoint proof');
  if (seq <= core.lastExec) return reject('not-needed', `checkpoint ${seq} is not above the executed ${core.lastExec}`);
  const digest = checkCheckpointProof(t.proof, seq, core.validators, core.verifier);
  if (!(digest instanceof Uint8Array)) return reject(digest.reason, digest.detail);
  if (!sameDigest(stateDigest(t.snapshot), digest)) {
    return reject('wrong-state-digest', `the snapshot is not the state the proof for ${seq} names`);
  }
  const problem = restore(core, t.snapshot);
  if (problem !== null) return reject(problem.reason, problem.detail);
  core.lastExec = seq;
  core.ownCheckpoints.set(seq, { digest, snapshot: t.snapshot });
  if (seq > core.knownStable) core.knownStable = seq;
  for (const [key, p] of core.pending) {
    const entry = core.clients.get(hex(p.request.client));
    if (entry !== undefined && p.request.timestamp <= entry.timestamp) core.pending.delete(key);
  }
  if (core.pending.size === 0 && core.active) cancelViewChangeTimer(core);
  if (!core.replaying) core.out.events.push({ kind: 'state-transferred', seq });
  if (seq > core.h) makeStable(core, seq, t.proof, t.snapshot);
  executeReady(core);
  return ACCEPTED;
}

/** Replaces the application state and client table with a snapshot's, or changes nothing. */
export function restore(core: ReplicaCore, snapshot: Uint8Array): Problem | null {
  let decoded: ReturnType<typeof decodeSnapshot>;
  try {
    decoded = decodeSnapshot(snapshot);
    core.app.restore(decoded.appState);
  } catch (err) {
    return { reason: 'bad-snapshot', detail: (err as Error).message };
  }
  core.clients.clear();
  for (const c of decoded.clients) {
    core.clients.set(hex(c.client), {
      client: c.client,
      timestamp: c.timestamp,
      result: c.result,
      seq: null,
      reply: null,
    });
  }
  return null;
}
