/**
 * Rebuilding a replica from its write-ahead log after a crash.
 * Functions of the replica's state (replica-core.ts); PbftReplica (replica.ts) calls them.
 */
import { stateDigest } from '../../protocol/pbft/sign.ts';
import type {
  PbftCommit,
  PbftCommitCertificate,
  PbftNewView,
  PbftPrepare,
  PbftProposal,
  PbftStateTransfer,
  PbftViewChange,
} from '../../protocol/pbft/types.ts';
import type { PbftWalRecord } from '../../protocol/pbft/wal-record.ts';
import { type ReplicaCore, requestKey } from './replica-core.ts';
import { executeReady } from './replica-normal-case.ts';
import { restore } from './replica-retransmission.ts';

export function replayLog(core: ReplicaCore, records: readonly PbftWalRecord[]): void {
  let stable: PbftStateTransfer | null = null;
  let view = 0;
  let active = true;
  let newView: PbftNewView | null = null;
  let newViewChanges: readonly PbftViewChange[] = [];
  for (const rec of records) {
    if (rec.kind === 'stable' && (stable === null || rec.transfer.proof[0]!.seq > stable.proof[0]!.seq)) {
      stable = rec.transfer;
    } else if (rec.kind === 'view' && rec.view >= view) {
      view = rec.view;
      active = rec.active;
    } else if (rec.kind === 'new-view' && (newView === null || rec.message.view >= newView.view)) {
      newView = rec.message;
      newViewChanges = rec.viewChanges;
    }
  }
  if (stable !== null) {
    const seq = stable.proof[0]!.seq;
    const problem = restore(core, stable.snapshot);
    if (problem !== null) throw new Error(`the WAL's stable checkpoint ${seq} does not restore: ${problem.detail}`);
    core.lastExec = seq;
    core.h = seq;
    core.stableProof = stable.proof;
    core.stableSnapshot = stable.snapshot;
    core.ownCheckpoints.set(seq, { digest: stateDigest(stable.snapshot), snapshot: stable.snapshot });
    core.knownStable = seq;
  }
  // Executed batches, in sequence order from the checkpoint on.
  const executed = new Map<number, PbftCommitCertificate>();
  for (const rec of records) if (rec.kind === 'executed') executed.set(rec.cert.commits[0]!.seq, rec.cert);
  for (let seq = core.lastExec + 1; executed.has(seq); seq++) core.slot(seq).committed = executed.get(seq)!;
  executeReady(core);
  core.view = view;
  core.active = active;
  for (const rec of records) {
    if (rec.kind === 'prepared') {
      const seq = rec.cert.prePrepare.seq;
      if (seq <= core.h) continue;
      const slot = core.slot(seq);
      if (slot.cert === null || rec.cert.prePrepare.view >= slot.cert.prePrepare.view) slot.cert = rec.cert;
    } else if (rec.kind === 'signed') {
      recoverSigned(core, rec.message);
    }
  }
  if (newView !== null && newView.view === view && active) {
    core.newView = newView;
    core.newViewChanges = newViewChanges;
    for (const pp of newView.prePrepares) {
      if (!core.inWindow(pp.seq)) continue;
      // From the log (a certificate, an executed batch, this replica's own proposal); a
      // batch it never logged is asked of peers again (STATUS).
      const batch = core.knownBatch(pp.seq, pp.digest);
      const slot = core.slot(pp.seq);
      slot.prePrepare = pp;
      slot.batch = batch;
      if (core.isPrimary) core.signed.set(`pre-prepare:${pp.view}:${pp.seq}`, pp);
      core.nextSeq = Math.max(core.nextSeq, pp.seq + 1);
    }
  }
  for (const slot of core.slots.values()) {
    if (slot.cert !== null && slot.cert.prePrepare.view === view && slot.prePrepare === null) {
      slot.prePrepare = slot.cert.prePrepare;
      slot.batch = slot.cert.batch;
    }
    if (slot.cert !== null && slot.prePrepare !== null && slot.cert.prePrepare.view === view) {
      // The certificate's PREPAREs are this view's: they count again, so COMMITs that
      // arrive now can still make the batch committed-local here.
      for (const p of slot.cert.prepares) slot.prepares.set(p.replica, p);
      slot.prepared = slot.commits.has(core.id);
    }
  }
  core.nextSeq = Math.max(core.nextSeq, core.lastExec + 1, core.h + 1);
}

export function recoverSigned(core: ReplicaCore, m: PbftProposal | PbftPrepare | PbftCommit | PbftViewChange): void {
  if (m.type === 'view-change') {
    if (m.newView === core.view && !core.active) {
      core.myViewChange = m;
      core.viewChanges.set(core.id, m);
    }
    return;
  }
  const vote = m.type === 'proposal' ? m.prePrepare : m;
  if (vote.seq <= core.h) return;
  core.signed.set(`${vote.type}:${vote.view}:${vote.seq}`, vote);
  if (vote.view !== core.view || !core.active || vote.seq <= core.lastExec) return;
  const slot = core.slot(vote.seq);
  if (m.type === 'proposal') {
    slot.prePrepare = m.prePrepare;
    slot.batch = m.batch;
    core.nextSeq = Math.max(core.nextSeq, vote.seq + 1);
    for (const r of m.batch) core.proposed.add(requestKey(r));
  } else if (m.type === 'prepare') {
    slot.prepares.set(core.id, m);
  } else {
    slot.commits.set(core.id, m);
  }
}
