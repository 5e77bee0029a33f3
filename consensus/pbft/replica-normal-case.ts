/**
 * Requests, batches and the normal case: REQUEST -> PRE-PREPARE (a batch) -> PREPARE -> COMMIT -> execution in sequence order -> REPLY.
 * Functions of the replica's state (replica-core.ts); PbftReplica (replica.ts) calls them.
 */
import { encodeSnapshot } from '../../protocol/pbft/codec.ts';
import type {
  PbftCommit,
  PbftCommitCertificate,
  PbftPrePrepare,
  PbftPrepare,
  PbftProposal,
  PbftRequest,
} from '../../protocol/pbft/types.ts';
import { ACCEPTED, type PbftOutcome, reject } from './output.ts';
import { isCommittedLocal, isPrepared, matchingVoters, sameDigest } from './quorum.ts';
import { takeCheckpoint } from './replica-checkpoints.ts';
import {
  batchIds,
  type ClientEntry,
  type EarlyMessage,
  hex,
  type PbftVoteLike,
  type ReplicaCore,
  rememberBatchIds,
  requestKey,
  requestKeyOf,
  type Slot,
} from './replica-core.ts';
import { notePipelineLatency, pipelineBound } from './replica-pipeline.ts';
import { outputBatchReplies, resendReply } from './replica-replies.ts';
import { armViewChangeTimer, cancelViewChangeTimer } from './replica-view-change.ts';
import { checkBatch, checkReplicaSignature } from './validate.ts';

export function onRequest(core: ReplicaCore, r: PbftRequest): PbftOutcome {
  if (!core.verifier.verify(r, r.client)) return reject('bad-signature', 'the client signature does not verify');
  const id = hex(r.client);
  const entry = core.clients.get(id);
  if (entry !== undefined && r.timestamp < entry.timestamp) {
    return reject('stale-request', `timestamp ${r.timestamp} is below the last executed ${entry.timestamp}`);
  }
  if (entry !== undefined && r.timestamp === entry.timestamp) {
    // A retransmission of what already executed: the same result again.
    resendReply(core, entry);
    return ACCEPTED;
  }
  const key = requestKeyOf(id, r.timestamp);
  if (core.pending.has(key)) {
    if (core.active && !core.isPrimary) core.send(core.primary, r);
    return core.isPrimary ? reject('duplicate', 'the request is already pending') : ACCEPTED;
  }
  if (core.pending.size >= core.opts.maxPendingRequests) {
    return reject('overloaded', `${core.pending.size} requests are pending`);
  }
  core.pending.set(key, { request: r, key, id });
  if (core.active && core.isPrimary) {
    core.queue.push(key);
    propose(core, false);
  } else {
    if (core.active) core.send(core.primary, r);
    armViewChangeTimer(core);
  }
  return ACCEPTED;
}

/**
 * Relays a request of this node's own client to every replica, as a PBFT client that got
 * no reply in time broadcasts it in Castro and Liskov's protocol. The shell relays a
 * request from its second retransmission on, and any request while its replica has left
 * the view (it has no primary to forward to). Without this only the replica the client
 * talks to knew of a request its forward to the primary had not brought about: with a
 * crashed or censoring primary that replica alone timed out, left the view alone (a view
 * change needs 2f + 1 VIEW-CHANGEs, and others join only at f + 1) and held the request
 * forever. Relayed to all, every correct backup holds it, forwards it to the primary and
 * times out on it too; so either the view executes it, or enough replicas suspect the
 * primary to replace it.
 *
 * A request not held here is first handled as any REQUEST (checked; refused, answered
 * with its REPLY if it executed, or held); an active backup then forwards a new one to
 * the primary as usual, and the primary of an active view has it queued or proposed.
 * Only this call relays: a replica never relays what it got from a peer, so one relay
 * costs n - 1 messages (and the backups' forwards to the primary), never a storm.
 */
export function onRelay(core: ReplicaCore, r: PbftRequest): PbftOutcome {
  let held = core.pending.get(requestKey(r));
  if (held === undefined || (core.active && core.isPrimary)) {
    const outcome = onRequest(core, r);
    if (!outcome.ok || core.active) return outcome;
    held = core.pending.get(requestKey(r));
    if (held === undefined) return outcome; // executed already: its REPLY went out
  }
  // The one held was checked when it came; `r` may be another signed request with the
  // same client and timestamp, which would be refused as a duplicate everywhere.
  core.send('all', held.request);
  return ACCEPTED;
}

/**
 * The primary cuts batches while fewer than its pipeline bound are in flight
 * (replica-pipeline.ts): full ones at once; a partial one once its delay ran out (`force`:
 * the batch timer fired) and fewer than `partialBatchWindow` batches are in flight. What
 * the bounds hold back goes out when a batch executes (execute()).
 */
export function propose(core: ReplicaCore, force: boolean): void {
  if (!core.active || !core.isPrimary) return;
  const due = force || core.batchDue || core.opts.batchDelayMs === 0;
  const inFlight = () => core.nextSeq - 1 - core.lastExec;
  while (core.queue.length > 0 && core.nextSeq <= core.h + core.opts.logWindow) {
    // The queue may hold keys that went stale (executed or proposed through a view
    // change); they are dropped here, when a batch is cut, not on every request (that
    // was quadratic in the queue length at saturation). A stale key counted as "full"
    // only makes a batch cut a little early.
    const full = core.queue.length >= core.opts.batchSize;
    if (inFlight() >= pipelineBound(core)) break;
    if (!full && (!due || inFlight() >= core.opts.partialBatchWindow)) break;
    const keys = takeLive(core, core.opts.batchSize);
    if (keys.length === 0) break;
    const held = keys.map((k) => core.pending.get(k)!);
    const batch = held.map((p) => p.request);
    rememberBatchIds(
      batch,
      held.map((p) => p.id),
      keys,
    );
    const seq = core.nextSeq;
    const pp = core.signVote<PbftPrePrepare>('pre-prepare', core.view, seq, core.verifier.batchDigest(batch));
    if (pp === null) {
      // This replica proposed something else at `seq` before a crash: skip the number
      // (the earlier proposal still stands) and try the next.
      core.nextSeq++;
      core.queue.unshift(...keys);
      continue;
    }
    core.nextSeq++;
    for (const k of keys) core.proposed.add(k);
    const slot = core.slot(seq);
    slot.prePrepare = pp;
    slot.batch = batch;
    slot.proposedAtMs = core.now;
    const proposal: PbftProposal = { type: 'proposal', prePrepare: pp, batch };
    core.persist({ kind: 'signed', message: proposal });
    core.send('all', proposal);
    checkPrepared(core, slot);
  }
  const waiting = core.queue.length > 0 && core.nextSeq <= core.h + core.opts.logWindow;
  // Due but held back by the window: no timer, the next execution cuts it (execute()).
  core.batchDue = waiting && due;
  if (waiting && !due) {
    if (core.batchDeadline === null) {
      core.batchDeadline = core.now + core.opts.batchDelayMs;
      core.out.timers.push({ timer: 'batch', atMs: core.batchDeadline });
    }
  } else if (core.batchDeadline !== null) {
    core.batchDeadline = null;
    core.out.timers.push({ timer: 'batch', atMs: null });
  }
}

/** Up to `max` keys from the head of the queue that are still pending and not proposed. */
function takeLive(core: ReplicaCore, max: number): string[] {
  const keys: string[] = [];
  let i = 0;
  for (; i < core.queue.length && keys.length < max; i++) {
    const k = core.queue[i]!;
    if (core.pending.has(k) && !core.proposed.has(k)) keys.push(k);
  }
  core.queue.splice(0, i);
  return keys;
}

/**
 * A checked proposal or vote of the view this replica is entering, come before its
 * NEW-VIEW is installed (the NEW-VIEW is late, or held back for a VIEW-CHANGE it names):
 * kept, and handled once the NEW-VIEW is in (PbftReplica.receive), instead of refused and
 * fetched again through a STATUS a round trip later. At most maxRetransmit a sender, so a
 * faulty one cannot fill memory; beyond that it is refused as before.
 */
function holdEarly(core: ReplicaCore, m: EarlyMessage, sender: number): PbftOutcome {
  const held = core.earlyCount.get(sender) ?? 0;
  if (held >= core.opts.maxRetransmit) {
    return reject(
      'view-changing',
      `waiting for the NEW-VIEW of view ${core.view}; ${held} messages of replica ${sender} held`,
    );
  }
  core.earlyCount.set(sender, held + 1);
  core.early.push(m);
  return ACCEPTED;
}

export function onProposal(core: ReplicaCore, p: PbftProposal): PbftOutcome {
  const pp = p.prePrepare;
  if (pp.view !== core.view)
    return reject('wrong-view', `pre-prepare for view ${pp.view}; this replica is in ${core.view}`);
  const slot = core.slots.get(pp.seq);
  if (slot?.prePrepare != null && slot.batch === null && sameDigest(slot.prePrepare.digest, pp.digest)) {
    // The batch of a PRE-PREPARE a NEW-VIEW re-issued, which this replica asked its peers
    // for: any of them may send it, as the held (checked) PRE-PREPARE's digest binds it.
    return takeMissingBatch(core, slot.prePrepare, p.batch);
  }
  if (pp.replica !== core.primary) {
    return reject(
      'not-primary',
      `pre-prepare from replica ${pp.replica}; the primary of view ${pp.view} is ${core.primary}`,
    );
  }
  if (pp.replica === core.id) return reject('self', 'a pre-prepare of this replica');
  if (!core.inWindow(pp.seq)) {
    return reject('outside-watermarks', `sequence ${pp.seq} is outside (${core.h}, ${core.h + core.opts.logWindow}]`);
  }
  const sig = checkReplicaSignature(pp, core.validators, core.verifier);
  if (sig !== null) return reject(sig.reason, sig.detail);
  if (!core.active) return holdEarly(core, p, pp.replica);
  const held = slot?.prePrepare;
  if (held != null) {
    return sameDigest(held.digest, pp.digest)
      ? reject('duplicate', `pre-prepare for ${pp.seq} already held`)
      : reject('conflicting-pre-prepare', `the primary already proposed another batch at ${pp.seq} in view ${pp.view}`);
  }
  const bad = batchProblem(core, pp, p.batch);
  if (bad !== null) return bad;
  acceptPrePrepare(core, pp, p.batch);
  return ACCEPTED;
}

/** Why `batch` cannot be the batch of `pp`, or null. */
function batchProblem(core: ReplicaCore, pp: PbftPrePrepare, batch: readonly PbftRequest[]): PbftOutcome | null {
  if (batch.length > core.opts.batchSize) {
    return reject('oversized-batch', `${batch.length} requests; at most ${core.opts.batchSize}`);
  }
  if (!sameDigest(core.verifier.batchDigest(batch), pp.digest)) {
    return reject('wrong-digest', 'the batch does not match the pre-prepare digest');
  }
  const bad = checkBatch(batch, core.verifier);
  return bad === null ? null : reject(bad.reason, bad.detail);
}

function takeMissingBatch(core: ReplicaCore, held: PbftPrePrepare, batch: readonly PbftRequest[]): PbftOutcome {
  const bad = batchProblem(core, held, batch);
  if (bad !== null) return bad;
  acceptPrePrepare(core, held, batch);
  return ACCEPTED;
}

/**
 * Logs a PRE-PREPARE (normal case or NEW-VIEW) and, as a backup, sends its PREPARE. A
 * null batch (a NEW-VIEW named one no log here holds) holds the PRE-PREPARE alone until
 * a peer sends the batch: no PREPARE before this replica has checked it.
 */
export function acceptPrePrepare(core: ReplicaCore, pp: PbftPrePrepare, batch: readonly PbftRequest[] | null): void {
  const slot = core.slot(pp.seq);
  slot.prePrepare = pp;
  slot.batch = batch;
  if (batch === null) return;
  if (core.isPrimary) {
    for (const r of batch) core.proposed.add(requestKey(r));
  } else {
    const prepare = core.signVote<PbftPrepare>('prepare', pp.view, pp.seq, pp.digest);
    if (prepare !== null) {
      slot.prepares.set(core.id, prepare);
      core.persist({ kind: 'signed', message: prepare });
      core.send('all', prepare);
    }
    // A request in a proposal that then stalls must still make this backup suspect the primary.
    if (pp.seq > core.lastExec) trackBatch(core, batch);
  }
  checkPrepared(core, slot);
}

/** Adds a batch's unexecuted requests to the pending set, arming the view-change timer. */
export function trackBatch(core: ReplicaCore, batch: readonly PbftRequest[]): void {
  let added = false;
  const { ids, keys } = batchIds(batch);
  for (let i = 0; i < batch.length; i++) {
    const r = batch[i]!;
    const id = ids[i]!;
    const entry = core.clients.get(id);
    if (entry !== undefined && r.timestamp <= entry.timestamp) continue;
    const key = keys[i]!;
    if (core.pending.has(key) || core.pending.size >= core.opts.maxPendingRequests) continue;
    core.pending.set(key, { request: r, key, id });
    added = true;
  }
  if (added || core.pending.size > 0) armViewChangeTimer(core);
}

export function onVote(core: ReplicaCore, v: PbftPrepare | PbftCommit): PbftOutcome {
  if (v.view !== core.view)
    return reject('wrong-view', `${v.type} for view ${v.view}; this replica is in ${core.view}`);
  if (!core.inWindow(v.seq)) {
    return reject('outside-watermarks', `sequence ${v.seq} is outside (${core.h}, ${core.h + core.opts.logWindow}]`);
  }
  if (v.replica >= core.validators.n) return reject('unknown-replica', `replica ${v.replica} is not a validator`);
  if (v.replica === core.id) return reject('self', `a ${v.type} of this replica`);
  if (v.type === 'prepare' && v.replica === core.primary) {
    return reject('from-primary', 'the primary does not prepare: its pre-prepare stands for it');
  }
  const sig = checkReplicaSignature(v, core.validators, core.verifier);
  if (sig !== null) return reject(sig.reason, sig.detail);
  if (!core.active) return holdEarly(core, v, v.replica);
  const slot = core.slots.get(v.seq);
  const votes: Map<number, PbftVoteLike> | undefined = v.type === 'prepare' ? slot?.prepares : slot?.commits;
  const held = votes?.get(v.replica);
  if (held !== undefined) {
    return sameDigest(held.digest, v.digest)
      ? reject('duplicate', `${v.type} of replica ${v.replica} for ${v.seq} already held`)
      : reject('conflicting-vote', `replica ${v.replica} sent another ${v.type} for ${v.seq} in view ${v.view}`);
  }
  const s = slot ?? core.slot(v.seq);
  if (v.type === 'prepare') {
    s.prepares.set(v.replica, v);
    checkPrepared(core, s);
  } else {
    s.commits.set(v.replica, v);
    checkCommitted(core, s);
  }
  return ACCEPTED;
}

export function checkPrepared(core: ReplicaCore, slot: Slot): void {
  if (slot.prepared || slot.prePrepare === null || slot.batch === null) return;
  if (!isPrepared(slot.prePrepare, slot.prepares.values(), core.validators.n)) return;
  const pp = slot.prePrepare;
  const voters = [...matchingVoters(slot.prepares.values(), pp.view, pp.seq, pp.digest, pp.replica)].sort(
    (a, b) => a - b,
  );
  const prepares = voters.slice(0, core.validators.quorum - 1).map((r) => slot.prepares.get(r)!);
  const commit = core.signVote<PbftCommit>('commit', pp.view, pp.seq, pp.digest);
  if (commit === null) return;
  slot.prepared = true;
  slot.cert = { prePrepare: pp, batch: slot.batch, prepares };
  // The certificate first: a VIEW-CHANGE after a crash must still carry it.
  core.persist({ kind: 'prepared', cert: slot.cert });
  core.persist({ kind: 'signed', message: commit });
  slot.commits.set(core.id, commit);
  core.send('all', commit);
  checkCommitted(core, slot);
}

export function checkCommitted(core: ReplicaCore, slot: Slot): void {
  if (slot.committed !== null || !slot.prepared || slot.prePrepare === null || slot.batch === null) return;
  if (!isCommittedLocal(slot.prePrepare, slot.prepares.values(), slot.commits.values(), core.validators.n)) return;
  const pp = slot.prePrepare;
  const voters = [...matchingVoters(slot.commits.values(), pp.view, pp.seq, pp.digest)].sort((a, b) => a - b);
  slot.committed = {
    type: 'commit-certificate',
    batch: slot.batch,
    commits: voters.slice(0, core.validators.quorum).map((r) => slot.commits.get(r)!),
  };
  executeReady(core);
}

export function executeReady(core: ReplicaCore): void {
  for (;;) {
    const slot = core.slots.get(core.lastExec + 1);
    if (slot?.committed == null) return;
    execute(core, slot.seq, slot.committed);
  }
}

export function execute(core: ReplicaCore, seq: number, cert: PbftCommitCertificate): void {
  const run: PbftRequest[] = [];
  // Each client's hex id and request key, made once per batch (they key three maps below).
  const { ids, keys } = batchIds(cert.batch);
  const runIds: string[] = [];
  const newest = new Map<string, number>();
  cert.batch.forEach((r, i) => {
    const id = ids[i]!;
    const last = newest.get(id) ?? core.clients.get(id)?.timestamp ?? 0;
    if (r.timestamp <= last) return; // exactly once, and never an older request after a newer one
    newest.set(id, r.timestamp);
    run.push(r);
    runIds.push(id);
  });
  const results = core.app.apply(run);
  if (results.length !== run.length) {
    throw new Error(`the application returned ${results.length} results for ${run.length} requests`);
  }
  const vote = cert.commits[0]!;
  core.persist({ kind: 'executed', cert });
  const entries = run.map(
    (r, i): ClientEntry => ({ client: r.client, timestamp: r.timestamp, result: results[i]!, seq, reply: null }),
  );
  entries.forEach((e, i) => {
    core.clients.set(runIds[i]!, e);
  });
  outputBatchReplies(core, entries);
  if (!core.replaying) {
    core.out.committed.push({ seq, view: vote.view, digest: vote.digest, requests: run, results });
  }
  core.lastExec = seq;
  const slot = core.slots.get(seq);
  if (slot !== undefined && !core.replaying) notePipelineLatency(core, slot);
  for (const key of keys) {
    core.pending.delete(key);
    core.proposed.delete(key);
  }
  // The doubled timeout stays until this replica has caught up (nothing left waiting),
  // not merely until something executes: under a load whose batches take longer than
  // the base timeout, resetting at the first execution brought the next view change on
  // within seconds, and views changed again and again.
  if (core.active && run.length > 0 && core.pending.size === 0) core.attempts = 0;
  if (!core.replaying && core.active) {
    if (core.pending.size === 0) cancelViewChangeTimer(core);
    else armViewChangeTimer(core, true);
  }
  if (seq % core.opts.checkpointInterval === 0) takeCheckpoint(core, seq);
  // A batch left the pipeline: what the bounds held back may go now (a due partial
  // batch, or full ones).
  if (!core.replaying && core.queue.length > 0) propose(core, false);
}

export function snapshotBytes(core: ReplicaCore): Uint8Array {
  const clients = [...core.clients.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, e]) => ({ client: e.client, timestamp: e.timestamp, result: e.result }));
  return encodeSnapshot({ appState: core.app.snapshot(), clients });
}
