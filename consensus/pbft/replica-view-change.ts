/**
 * View change: a backup whose pending request does not execute in time sends a VIEW-CHANGE; the new primary's NEW-VIEW re-issues what may have committed.
 * Functions of the replica's state (replica-core.ts); PbftReplica (replica.ts) calls them.
 */
import { signedDigest, viewChangeRef } from '../../protocol/pbft/sign.ts';
import type {
  PbftNewView,
  PbftPrePrepare,
  PbftPreparedProof,
  PbftViewChange,
  PbftViewChangeRef,
} from '../../protocol/pbft/types.ts';
import { type NewViewPlan, planNewView } from './new-view.ts';
import { ACCEPTED, type PbftOutcome, reject } from './output.ts';
import { primaryOf, sameDigest } from './quorum.ts';
import { askForState, makeStable } from './replica-checkpoints.ts';
import { hex, type ReplicaCore } from './replica-core.ts';
import { acceptPrePrepare, propose } from './replica-normal-case.ts';
import { restartPipeline } from './replica-pipeline.ts';
import { broadcastStatus } from './replica-retransmission.ts';
import { checkReplicaSignature, checkViewChange } from './validate.ts';

/** Active backups only: a pending request must execute before this deadline. */
export function armViewChangeTimer(core: ReplicaCore, restart = false): void {
  if (!core.active || core.isPrimary) return;
  if (core.viewChangeDeadline !== null && !restart) return;
  core.viewChangeDeadline = core.now + core.timeoutMs();
  core.out.timers.push({ timer: 'view-change', atMs: core.viewChangeDeadline });
}

/**
 * Waiting for the NEW-VIEW of view v: the timer starts only once 2f+1 replicas (this
 * one included) asked for v or later (Castro & Liskov §4.5.2), so no replica runs ahead
 * to higher views alone: when it gives up on v, a quorum is there to give up with it.
 */
export function armNewViewTimer(core: ReplicaCore): void {
  if (core.active || core.viewChangeDeadline !== null) return;
  let asking = 0;
  for (const vc of core.viewChanges.values()) if (vc.newView >= core.view) asking++;
  if (asking < core.validators.quorum) return;
  core.viewChangeDeadline = core.now + core.timeoutMs();
  core.out.timers.push({ timer: 'view-change', atMs: core.viewChangeDeadline });
}

export function cancelViewChangeTimer(core: ReplicaCore): void {
  if (core.viewChangeDeadline === null) return;
  core.viewChangeDeadline = null;
  core.out.timers.push({ timer: 'view-change', atMs: null });
}

/** Forgets this view's proposals and votes (prepared certificates and commits stay). */
export function leaveView(core: ReplicaCore): void {
  for (const slot of core.slots.values()) {
    if (slot.prePrepare !== null && slot.batch !== null)
      slot.earlierBatches.set(hex(slot.prePrepare.digest), slot.batch);
    slot.prePrepare = null;
    slot.batch = null;
    slot.prepares.clear();
    slot.commits.clear();
    slot.prepared = false;
    slot.proposedAtMs = null;
  }
  core.early = [];
  core.earlyCount.clear();
  core.queue = [];
  core.proposed.clear();
  core.newView = null;
  core.newViewChanges = [];
  core.batchDue = false;
  if (core.batchDeadline !== null) {
    core.batchDeadline = null;
    core.out.timers.push({ timer: 'batch', atMs: null });
  }
}

export function startViewChange(core: ReplicaCore, newView: number): void {
  if (newView < core.view || (newView === core.view && !core.active)) return;
  leaveView(core);
  for (const v of core.pendingNewViews.keys()) if (v < newView) core.pendingNewViews.delete(v);
  core.view = newView;
  core.active = false;
  // Certificates without their batches: 2f + 1 VIEW-CHANGEs ride in the NEW-VIEW, and
  // with batches they made it megabytes under load (replicas re-take batches by digest).
  const prepared = [...core.slots.values()]
    .filter((s) => s.cert !== null && s.seq > core.h)
    .sort((a, b) => a.seq - b.seq)
    .map((s): PbftPreparedProof => ({ prePrepare: s.cert!.prePrepare, prepares: s.cert!.prepares }));
  const vc =
    core.myViewChange?.newView === newView
      ? core.myViewChange
      : core.sign<PbftViewChange>({
          type: 'view-change',
          newView,
          checkpointSeq: core.h,
          checkpointProof: core.stableProof,
          prepared,
          replica: core.id,
        });
  core.myViewChange = vc;
  core.viewChanges.set(core.id, vc);
  core.persist({ kind: 'view', view: newView, active: false });
  core.persist({ kind: 'signed', message: vc });
  core.send('all', vc);
  core.out.events.push({ kind: 'view-change-started', view: newView });
  core.attempts++;
  cancelViewChangeTimer(core);
  armNewViewTimer(core);
  tryNewView(core);
}

export function onViewChange(core: ReplicaCore, vc: PbftViewChange): PbftOutcome {
  if (vc.replica >= core.validators.n) return reject('unknown-replica', `replica ${vc.replica} is not a validator`);
  if (vc.replica === core.id) return reject('self', 'a view-change of this replica');
  if (vc.newView < core.view || (vc.newView === core.view && core.active)) {
    return reject('wrong-view', `view-change to ${vc.newView}; this replica is in view ${core.view}`);
  }
  const held = core.viewChanges.get(vc.replica);
  // A replica that signed two VIEW-CHANGEs for one view is faulty; the one the held-back
  // NEW-VIEW names is still taken, or that NEW-VIEW could never be checked here.
  if (held !== undefined && held.newView >= vc.newView && !wantedByPendingNewView(core, vc)) {
    return reject('duplicate', `replica ${vc.replica} already asked for view ${held.newView}`);
  }
  const bad = checkViewChange(vc, core.validators, core.verifier, core.opts.logWindow);
  if (bad !== null) return reject(bad.reason, bad.detail);
  core.viewChanges.set(vc.replica, vc);
  const pending = core.pendingNewViews.get(vc.newView);
  if (pending !== undefined) {
    core.pendingNewViews.delete(vc.newView); // held again while incomplete; dropped if found wrong
    onNewView(core, pending, true); // installs it once the last VIEW-CHANGE it names is here
    if (core.active && core.view === vc.newView) return ACCEPTED;
  }
  // f+1 replicas want a higher view: at least one correct one does, so follow (to the smallest).
  const higher = [...core.viewChanges.values()].filter((v) => v.replica !== core.id && v.newView > core.view);
  if (higher.length >= core.validators.f + 1) {
    startViewChange(core, Math.min(...higher.map((v) => v.newView)));
  } else {
    armNewViewTimer(core);
    tryNewView(core);
  }
  return ACCEPTED;
}

/** The new primary, once it holds 2f+1 VIEW-CHANGEs for its view, sends NEW-VIEW. */
export function tryNewView(core: ReplicaCore): void {
  if (core.active || !core.isPrimary) return;
  const vcs = [...core.viewChanges.values()]
    .filter((v) => v.newView === core.view)
    .sort((a, b) => a.replica - b.replica)
    .slice(0, core.validators.quorum);
  if (vcs.length < core.validators.quorum) return;
  const plan = planNewView(vcs);
  const prePrepares: PbftPrePrepare[] = [];
  for (const e of plan.entries) {
    const pp = core.signVote<PbftPrePrepare>('pre-prepare', core.view, e.seq, e.digest);
    if (pp === null) return; // cannot happen unless the log was lost: never equivocate
    prePrepares.push(pp);
  }
  // Named by digest: each backup holds them already (every VIEW-CHANGE is broadcast), and
  // whole they made the NEW-VIEW hundreds of kilobytes at n = 16 (docs/pbft.md).
  const nv = core.sign<PbftNewView>({
    type: 'new-view',
    view: core.view,
    viewChanges: vcs.map(viewChangeRef),
    prePrepares,
    replica: core.id,
  });
  core.persist({ kind: 'new-view', message: nv, viewChanges: vcs });
  core.persist({ kind: 'view', view: core.view, active: true });
  core.send('all', nv);
  installNewView(core, nv, vcs, plan);
}

/** The VIEW-CHANGE `ref` names for view `view`, if this replica holds it. */
function heldViewChange(core: ReplicaCore, ref: PbftViewChangeRef, view: number): PbftViewChange | null {
  const vc = core.viewChanges.get(ref.replica);
  return vc !== undefined && vc.newView === view && sameDigest(signedDigest(vc), ref.digest) ? vc : null;
}

/** True if a NEW-VIEW this replica holds back names `vc`. */
export function wantedByPendingNewView(core: ReplicaCore, vc: PbftViewChange): boolean {
  const nv = core.pendingNewViews.get(vc.newView);
  if (nv === undefined) return false;
  const ref = nv.viewChanges.find((r) => r.replica === vc.replica);
  return ref !== undefined && sameDigest(signedDigest(vc), ref.digest);
}

/** Replicas whose VIEW-CHANGE the held-back NEW-VIEW of the lowest view names and this replica lacks (for its STATUS). */
export function missingViewChanges(core: ReplicaCore): number[] {
  if (core.pendingNewViews.size === 0) return [];
  const nv = core.pendingNewViews.get(Math.min(...core.pendingNewViews.keys()))!;
  return nv.viewChanges.filter((r) => heldViewChange(core, r, nv.view) === null).map((r) => r.replica);
}

/** `held`: the NEW-VIEW was held back, and the VIEW-CHANGE it waited for has come. */
export function onNewView(core: ReplicaCore, nv: PbftNewView, held = false): PbftOutcome {
  if (nv.replica >= core.validators.n) return reject('unknown-replica', `replica ${nv.replica} is not a validator`);
  if (nv.view < core.view || nv.view === 0) {
    return reject('wrong-view', `new-view for view ${nv.view}; this replica is in ${core.view}`);
  }
  if (nv.view === core.view && core.active) return reject('duplicate', `already active in view ${nv.view}`);
  const primary = primaryOf(nv.view, core.validators.n);
  if (nv.replica !== primary)
    return reject('not-primary', `new-view from ${nv.replica}; the primary of ${nv.view} is ${primary}`);
  if (nv.replica === core.id) return reject('self', 'a new-view of this replica');
  const sig = checkReplicaSignature(nv, core.validators, core.verifier);
  if (sig !== null) return reject(sig.reason, sig.detail);
  if (nv.viewChanges.length < core.validators.quorum) {
    return reject(
      'wrong-new-view',
      `${nv.viewChanges.length} view-changes; a new-view needs ${core.validators.quorum}`,
    );
  }
  const unknown = nv.viewChanges.find((r) => r.replica >= core.validators.n);
  if (unknown !== undefined) return reject('wrong-new-view', `it names a view-change of replica ${unknown.replica}`);
  const vcs: PbftViewChange[] = [];
  const missing: number[] = [];
  for (const ref of nv.viewChanges) {
    const vc = heldViewChange(core, ref, nv.view);
    if (vc === null) missing.push(ref.replica);
    else vcs.push(vc);
  }
  if (missing.length > 0) {
    // Held back until they arrive (onViewChange); asked for now, not at the next STATUS.
    if (nv.view < core.view + core.validators.n) core.pendingNewViews.set(nv.view, nv);
    if (!held && !core.replaying) {
      core.out.events.push({ kind: 'new-view-incomplete', view: nv.view, missing });
      broadcastStatus(core);
    }
    return ACCEPTED;
  }
  // Every one was checked when it arrived (onViewChange; the check reads no replica state).
  const plan = planNewView(vcs);
  if (nv.prePrepares.length !== plan.entries.length) {
    return reject(
      'wrong-new-view',
      `${nv.prePrepares.length} pre-prepares; the view-changes call for ${plan.entries.length}`,
    );
  }
  for (const [i, pp] of nv.prePrepares.entries()) {
    const e = plan.entries[i]!;
    if (pp.view !== nv.view || pp.replica !== nv.replica || pp.seq !== e.seq || !sameDigest(pp.digest, e.digest)) {
      return reject('wrong-new-view', `pre-prepare ${i} (sequence ${pp.seq}) is not what the view-changes call for`);
    }
    const s = checkReplicaSignature(pp, core.validators, core.verifier);
    if (s !== null) return reject(s.reason, s.detail);
  }
  if (nv.view > core.view || core.active) leaveView(core);
  core.view = nv.view;
  core.persist({ kind: 'new-view', message: nv, viewChanges: vcs });
  core.persist({ kind: 'view', view: nv.view, active: true });
  installNewView(core, nv, vcs, plan);
  // Held back, it missed this view's first proposals and votes: ask for them now.
  if (held && !core.replaying) broadcastStatus(core);
  return ACCEPTED;
}

export function installNewView(
  core: ReplicaCore,
  nv: PbftNewView,
  vcs: readonly PbftViewChange[],
  plan: NewViewPlan,
): void {
  core.active = true;
  core.newView = nv;
  core.newViewChanges = vcs;
  for (const v of core.pendingNewViews.keys()) if (v <= nv.view) core.pendingNewViews.delete(v);
  for (const [r, vc] of core.viewChanges) if (vc.newView <= nv.view) core.viewChanges.delete(r);
  if (core.myViewChange !== null && core.myViewChange.newView <= nv.view) core.myViewChange = null;
  if (!core.replaying) core.out.events.push({ kind: 'new-view', view: nv.view });
  // The checkpoint the new view starts from.
  if (plan.checkpointSeq > core.h) {
    const own = core.ownCheckpoints.get(plan.checkpointSeq);
    if (own !== undefined && sameDigest(own.digest, plan.checkpointProof[0]!.stateDigest)) {
      makeStable(core, plan.checkpointSeq, plan.checkpointProof, own.snapshot);
    } else if (core.lastExec < plan.checkpointSeq) {
      if (plan.checkpointSeq > core.knownStable) core.knownStable = plan.checkpointSeq;
      askForState(core);
    }
  }
  let top = Math.max(core.lastExec, core.h);
  let missing = false;
  for (const pp of nv.prePrepares) {
    top = Math.max(top, pp.seq);
    if (!core.inWindow(pp.seq)) continue;
    const batch = core.knownBatch(pp.seq, pp.digest);
    missing ||= batch === null && pp.seq > core.lastExec;
    acceptPrePrepare(core, pp, batch);
  }
  core.viewChangeDeadline = null;
  core.out.timers.push({ timer: 'view-change', atMs: null });
  if (core.isPrimary) {
    core.nextSeq = top + 1;
    restartPipeline(core);
    core.queue = [...core.pending.keys()];
    propose(core, false);
  } else if (core.pending.size > 0) {
    armViewChangeTimer(core);
  }
  // Ask for the batches no log here holds now, not at the next STATUS tick.
  if (missing && !core.replaying) broadcastStatus(core);
}
