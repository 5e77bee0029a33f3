/**
 * Message validation: every reason a replica refuses a message, each provoked on purpose,
 * and each refusal changing nothing (no state, no output). The last test checks that
 * the cases cover the whole list of reasons.
 */
import { describe, expect, it } from 'vitest';
import { signPbft, stateDigest, viewChangeRef } from '../../protocol/pbft/sign.ts';
import type {
  PbftCommitCertificate,
  PbftMessage,
  PbftNewView,
  PbftPreparedProof,
  PbftReply,
  PbftRequest,
  PbftStateTransfer,
  PbftViewChange,
} from '../../protocol/pbft/types.ts';
import { PBFT_REJECT_REASONS, type PbftReceiveResult, type PbftRejectReason } from '../pbft/output.ts';
import { Cluster, TEST_OPTIONS } from './pbft-harness.ts';

const covered = new Set<PbftRejectReason>();

function fingerprint(c: Cluster, i: number): string {
  const r = c.replica(i);
  return JSON.stringify({ ...r.status(), state: Buffer.from(r.stateDigest()).toString('hex'), wal: c.wals[i]!.size });
}

/** Feeds `m` to replica `i` and expects `reason`, with nothing changed and nothing emitted. */
function expectRejected(c: Cluster, i: number, m: PbftMessage, reason: PbftRejectReason): PbftReceiveResult {
  const before = fingerprint(c, i);
  const res = c.replica(i).receive(m, c.now);
  expect(res.outcome.ok ? 'accepted' : res.outcome.reason, JSON.stringify(res.outcome)).toBe(reason);
  expect(res.persist).toEqual([]);
  expect(res.send).toEqual([]);
  expect(res.committed).toEqual([]);
  expect(res.replies).toEqual([]);
  expect(fingerprint(c, i)).toBe(before);
  covered.add(reason);
  return res;
}

function viewChange(c: Cluster, from: number, newView: number, extra: Partial<PbftViewChange> = {}): PbftViewChange {
  return signPbft<PbftViewChange>(
    { type: 'view-change', newView, checkpointSeq: 0, checkpointProof: [], prepared: [], replica: from, ...extra },
    c.signers[from]!,
  );
}

/** A valid prepared certificate for `batch` at (view 0, seq), as a VIEW-CHANGE carries it (no batch). */
function certificate(c: Cluster, seq: number, batch: PbftRequest[], prepares = [1, 2]): PbftPreparedProof {
  const pp = c.prePrepare(0, 0, seq, batch);
  return { prePrepare: pp, prepares: prepares.map((r) => c.vote('prepare', r, 0, seq, pp.digest)) };
}

function started(): Cluster {
  const c = new Cluster();
  c.startAll();
  return c;
}

describe('PBFT message validation', () => {
  it('refuses malformed and unexpected messages', () => {
    const c = started();
    expectRejected(
      c,
      1,
      { ...c.vote('prepare', 2, 0, 1, new Uint8Array(32)), digest: new Uint8Array(31) },
      'malformed',
    );
    const reply: PbftReply = signPbft<PbftReply>(
      {
        type: 'reply',
        view: 0,
        timestamp: 1,
        client: c.client.publicKey,
        replica: 2,
        result: new Uint8Array(),
        proof: { index: 0, count: 1, siblings: [] },
      },
      c.signers[2]!,
    );
    expectRejected(c, 1, reply, 'unexpected');
  });

  it('refuses votes by unknown replicas, from itself, with bad signatures, from the primary, for other views', () => {
    const c = started();
    const d = new Uint8Array(32).fill(7);
    expectRejected(c, 1, c.vote('prepare', 2, 0, 1, d, 9), 'unknown-replica');
    expectRejected(c, 1, c.vote('prepare', 1, 0, 1, d), 'self');
    expectRejected(c, 1, c.vote('prepare', 3, 0, 1, d, 2), 'bad-signature');
    expectRejected(c, 1, c.vote('prepare', 0, 0, 1, d), 'from-primary');
    expectRejected(c, 1, c.vote('commit', 2, 1, 1, d), 'wrong-view');
    expectRejected(c, 1, c.vote('commit', 2, 0, 9, d), 'outside-watermarks');
    expectRejected(c, 1, c.vote('commit', 2, 0, 0, d), 'outside-watermarks');
  });

  it('refuses duplicate and conflicting votes', () => {
    const c = started();
    const a = c.vote('prepare', 2, 0, 1, new Uint8Array(32).fill(1));
    expect(c.replica(1).receive(a, c.now).outcome.ok).toBe(true);
    expectRejected(c, 1, a, 'duplicate');
    expectRejected(c, 1, c.vote('prepare', 2, 0, 1, new Uint8Array(32).fill(2)), 'conflicting-vote');
  });

  it('refuses bad pre-prepares: not the primary, wrong digest, oversized, bad request, conflicting', () => {
    const c = started();
    const r = [c.request('a'), c.request('b'), c.request('c')];
    expectRejected(c, 1, c.proposal(2, 0, 1, [r[0]!]), 'not-primary');
    expectRejected(c, 1, { ...c.proposal(0, 0, 1, [r[0]!]), batch: [r[1]!] }, 'wrong-digest');
    expectRejected(c, 1, c.proposal(0, 0, 1, r), 'oversized-batch');
    const forged = { ...r[0]!, signature: new Uint8Array(64).fill(3) };
    expectRejected(c, 1, c.proposal(0, 0, 1, [forged]), 'bad-request');
    expectRejected(c, 1, c.proposal(0, 1, 1, [r[0]!]), 'wrong-view');
    expectRejected(c, 1, c.proposal(0, 0, 9, [r[0]!]), 'outside-watermarks');
    const p = c.proposal(0, 0, 1, [r[0]!]);
    expect(c.replica(1).receive(p, c.now).outcome.ok).toBe(true);
    expectRejected(c, 1, p, 'duplicate');
    expectRejected(c, 1, c.proposal(0, 0, 1, [r[1]!]), 'conflicting-pre-prepare');
  });

  it('refuses requests: bad signature, stale timestamp, and beyond maxPendingRequests', () => {
    const c = new Cluster(4, { ...TEST_OPTIONS, maxPendingRequests: 1 });
    c.startAll();
    const r1 = c.request('a');
    expectRejected(c, 1, { ...r1, signature: new Uint8Array(64) }, 'bad-signature');
    const r2 = c.request('b');
    c.submit(r2);
    expectRejected(c, 1, r1, 'stale-request');
    c.filter = () => false; // nothing moves: requests stay pending at replica 1
    c.submit(c.request('c'), 1);
    expectRejected(c, 1, c.request('d'), 'overloaded');
  });

  it('refuses checkpoints off the interval, at or below the stable one, and conflicting ones', () => {
    const c = started();
    const d = new Uint8Array(32).fill(5);
    expectRejected(c, 1, c.checkpoint(2, 3, d), 'not-checkpoint-sequence');
    expect(c.replica(1).receive(c.checkpoint(2, 4, d), c.now).outcome.ok).toBe(true);
    expectRejected(c, 1, c.checkpoint(2, 4, d), 'duplicate');
    expectRejected(c, 1, c.checkpoint(2, 4, new Uint8Array(32).fill(6)), 'conflicting-vote');
    expectRejected(c, 1, c.checkpoint(2, 4 + 4 * 8, d), 'outside-watermarks');
    for (let i = 0; i < 4; i++) c.submit(c.request(`k${i}`));
    expect(c.replica(1).stableCheckpoint).toBe(4);
    expectRejected(c, 1, c.checkpoint(3, 4, d), 'not-needed');
  });

  it('refuses bad commit certificates', () => {
    const c = started();
    const batch = [c.request('a')];
    const pp = c.prePrepare(0, 0, 1, batch);
    const commits = [0, 2, 3].map((r) => c.vote('commit', r, 0, 1, pp.digest));
    const cert: PbftCommitCertificate = { type: 'commit-certificate', batch, commits };
    expectRejected(c, 1, { ...cert, commits: commits.slice(0, 2) }, 'bad-commit-certificate');
    expectRejected(c, 1, { ...cert, batch: [c.request('b')] }, 'wrong-digest');
    const forged = [commits[0]!, commits[1]!, { ...commits[2]!, signature: commits[1]!.signature }];
    expectRejected(c, 1, { ...cert, commits: forged }, 'bad-commit-certificate');
    expect(c.replica(1).receive(cert, c.now).outcome.ok).toBe(true);
    expect(c.replica(1).lastExecuted).toBe(1);
    expectRejected(c, 1, cert, 'not-needed');
  });

  it('refuses state transfers without a proof, with a wrong state, with unreadable state, or not needed', () => {
    const c = started();
    const junk = new Uint8Array([0xff, 0xff, 0xff]);
    const proofFor = (bytes: Uint8Array) => [0, 2, 3].map((r) => c.checkpoint(r, 4, stateDigest(bytes)));
    const t: PbftStateTransfer = { type: 'state-transfer', proof: proofFor(junk), snapshot: junk };
    expectRejected(c, 1, { ...t, proof: [] }, 'bad-checkpoint-proof');
    expectRejected(c, 1, { ...t, proof: t.proof.slice(0, 2) }, 'bad-checkpoint-proof');
    expectRejected(c, 1, { ...t, snapshot: new Uint8Array([1]) }, 'wrong-state-digest');
    expectRejected(c, 1, t, 'bad-snapshot');
    for (let i = 0; i < 4; i++) c.submit(c.request(`k${i}`));
    expectRejected(c, 1, t, 'not-needed');
  });

  it('refuses bad view-changes', () => {
    const c = started();
    const batch = [c.request('a')];
    expectRejected(c, 1, viewChange(c, 2, 0), 'wrong-view');
    expectRejected(c, 1, viewChange(c, 2, 1, { checkpointSeq: 4 }), 'bad-checkpoint-proof');
    expectRejected(
      c,
      1,
      viewChange(c, 2, 1, { prepared: [certificate(c, 1, batch, [1])] }),
      'bad-prepared-certificate',
    );
    const fromFuture = { ...certificate(c, 1, batch), prePrepare: c.prePrepare(1, 1, 1, batch) };
    expectRejected(c, 1, viewChange(c, 2, 1, { prepared: [fromFuture] }), 'bad-view-change');
    expectRejected(c, 1, viewChange(c, 2, 1, { prepared: [certificate(c, 9, batch)] }), 'bad-view-change');
    expectRejected(c, 1, { ...viewChange(c, 2, 1), replica: 3 }, 'bad-signature');
    const vc = viewChange(c, 2, 1);
    expect(c.replica(1).receive(vc, c.now).outcome.ok).toBe(true);
    expectRejected(c, 1, vc, 'duplicate');
  });

  it('while changing views, holds checked votes of the new view (up to maxRetransmit a sender) and refuses the rest', () => {
    const c = started();
    // f+1 = 2 view-changes for view 1 make replica 2 join (and wait: the primary of 1 is replica 1).
    c.replica(2).receive(viewChange(c, 1, 1), c.now);
    c.replica(2).receive(viewChange(c, 3, 1), c.now);
    expect(c.replica(2).view).toBe(1);
    expect(c.replica(2).active).toBe(false);
    const early = c.vote('prepare', 3, 1, 1, new Uint8Array(32));
    const max = c.replica(2).opts.maxRetransmit;
    for (let k = 0; k < max; k++) expect(c.replica(2).receive(early, c.now).outcome.ok).toBe(true);
    expectRejected(c, 2, early, 'view-changing');
    // Another sender has a quota of its own; a forged vote is refused, not held.
    expect(c.replica(2).receive(c.vote('commit', 0, 1, 1, new Uint8Array(32)), c.now).outcome.ok).toBe(true);
    expectRejected(
      c,
      2,
      { ...c.vote('commit', 0, 1, 2, new Uint8Array(32)), signature: new Uint8Array(64) },
      'bad-signature',
    );
    expectRejected(c, 2, c.vote('prepare', 3, 0, 1, new Uint8Array(32)), 'wrong-view');
  });

  it('refuses a NEW-VIEW from a non-primary, with too few view-changes, or with the wrong pre-prepares', () => {
    const c = started();
    const batch = [c.request('a')];
    const cert = certificate(c, 2, batch);
    const vcs = [viewChange(c, 1, 1), viewChange(c, 2, 1, { prepared: [cert] }), viewChange(c, 3, 1)];
    // Replica 0 holds them (a NEW-VIEW names them by digest); the first two make it join view 1.
    for (const vc of vcs) expect(c.replica(0).receive(vc, c.now).outcome.ok).toBe(true);
    expect(c.replica(0).view).toBe(1);
    const refs = vcs.map(viewChangeRef);
    const nv = (signer: number, extra: Partial<PbftNewView>): PbftNewView =>
      signPbft<PbftNewView>(
        { type: 'new-view', view: 1, viewChanges: refs, prePrepares: [], replica: signer, ...extra },
        c.signers[signer]!,
      );
    const nullAt1 = c.prePrepare(1, 1, 1, []);
    const right = [nullAt1, c.prePrepare(1, 1, 2, batch)];
    expectRejected(c, 0, nv(3, { prePrepares: right }), 'not-primary');
    expectRejected(c, 0, nv(1, { prePrepares: right, viewChanges: refs.slice(0, 2) }), 'wrong-new-view');
    const stranger = { replica: 7, digest: refs[2]!.digest };
    expectRejected(c, 0, nv(1, { prePrepares: right, viewChanges: [refs[0]!, refs[1]!, stranger] }), 'wrong-new-view');
    // Dropping the prepared request, or replacing it by a null request, is caught.
    expectRejected(c, 0, nv(1, { prePrepares: [nullAt1] }), 'wrong-new-view');
    expectRejected(c, 0, nv(1, { prePrepares: [nullAt1, c.prePrepare(1, 1, 2, [])] }), 'wrong-new-view');
    expectRejected(c, 0, { ...nv(1, { prePrepares: right }), view: 6 }, 'not-primary');
    expectRejected(c, 0, { ...nv(1, { prePrepares: right }), signature: vcs[0]!.signature }, 'bad-signature');
    const good = nv(1, { prePrepares: right });
    expect(c.replica(0).receive(good, c.now).outcome.ok).toBe(true);
    expect(c.replica(0).view).toBe(1);
    expect(c.replica(0).active).toBe(true);
    expectRejected(c, 0, good, 'duplicate');
  });

  it('takes the VIEW-CHANGE a held-back NEW-VIEW names, even from a signer that sent another for that view', () => {
    const c = started();
    const batch = [c.request('a')];
    const named = viewChange(c, 2, 1, { prepared: [certificate(c, 2, batch)] });
    const other = viewChange(c, 2, 1); // replica 2 equivocates: a second VIEW-CHANGE for view 1
    for (const vc of [viewChange(c, 1, 1), other, viewChange(c, 3, 1)]) {
      expect(c.replica(0).receive(vc, c.now).outcome.ok).toBe(true);
    }
    expectRejected(c, 0, named, 'duplicate'); // nothing names it yet
    const nv = signPbft<PbftNewView>(
      {
        type: 'new-view',
        view: 1,
        viewChanges: [viewChange(c, 1, 1), named, viewChange(c, 3, 1)].map(viewChangeRef),
        prePrepares: [c.prePrepare(1, 1, 1, []), c.prePrepare(1, 1, 2, batch)],
        replica: 1,
      },
      c.signers[1]!,
    );
    const held = c.replica(0).receive(nv, c.now);
    expect(held.outcome.ok).toBe(true);
    expect(c.replica(0).active).toBe(false);
    expect(held.events).toContainEqual({ kind: 'new-view-incomplete', view: 1, missing: [2] });
    const status = held.send.find((x) => x.message.type === 'status')?.message;
    expect(status?.type === 'status' && status.missingViewChanges).toEqual([2]);
    const done = c.replica(0).receive(named, c.now);
    expect(done.outcome.ok).toBe(true);
    expect(c.replica(0).view).toBe(1);
    expect(c.replica(0).active).toBe(true);
    expect(done.events).toContainEqual({ kind: 'new-view', view: 1 });
  });

  it("keeps a held-back NEW-VIEW when a later view's primary sends one no one can complete", () => {
    const c = started();
    const batch = [c.request('a')];
    const vcs = [
      viewChange(c, 1, 1),
      viewChange(c, 2, 1, { prepared: [certificate(c, 2, batch)] }),
      viewChange(c, 3, 1),
    ];
    for (const vc of [vcs[0]!, vcs[2]!]) expect(c.replica(0).receive(vc, c.now).outcome.ok).toBe(true);
    const right = signPbft<PbftNewView>(
      {
        type: 'new-view',
        view: 1,
        viewChanges: vcs.map(viewChangeRef),
        prePrepares: [c.prePrepare(1, 1, 1, []), c.prePrepare(1, 1, 2, batch)],
        replica: 1,
      },
      c.signers[1]!,
    );
    expect(c.replica(0).receive(right, c.now).outcome.ok).toBe(true);
    // The (faulty) primary of view 2 names VIEW-CHANGEs that do not exist.
    const bogus = signPbft<PbftNewView>(
      {
        type: 'new-view',
        view: 2,
        viewChanges: [1, 2, 3].map((replica) => ({ replica, digest: new Uint8Array(32).fill(replica) })),
        prePrepares: [],
        replica: 2,
      },
      c.signers[2]!,
    );
    expect(c.replica(0).receive(bogus, c.now).outcome.ok).toBe(true);
    expect(c.replica(0).receive(vcs[1]!, c.now).outcome.ok).toBe(true);
    expect(c.replica(0).view).toBe(1);
    expect(c.replica(0).active).toBe(true);
  });

  it('covers every reject reason', () => {
    expect([...covered].sort()).toEqual([...PBFT_REJECT_REASONS].sort());
  });
});
