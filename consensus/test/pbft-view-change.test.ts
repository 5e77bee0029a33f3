/** View change, state transfer, and recovery from the write-ahead log. */
import { describe, expect, it } from 'vitest';
import { Ed25519Signer } from '../../protocol/crypto/ed25519.ts';
import { encodePbftMessage } from '../../protocol/pbft/codec.ts';
import { signPbft } from '../../protocol/pbft/sign.ts';
import type { PbftNewView, PbftStatus } from '../../protocol/pbft/types.ts';
import { PbftVerifier } from '../../protocol/pbft/verifier.ts';
import { Cluster, seedOf, TEST_OPTIONS } from './pbft-harness.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A signed STATUS of replica `i` as it stands (listing `missingViewChanges` as given). */
function statusOf(c: Cluster, i: number, missingViewChanges: number[] = []): PbftStatus {
  const s = c.replica(i).status();
  return signPbft<PbftStatus>(
    {
      type: 'status',
      view: s.view,
      active: s.active,
      lastExecuted: s.lastExecuted,
      stableCheckpoint: s.stableCheckpoint,
      missingBatches: [],
      missingViewChanges,
      slots: [],
      replica: i,
    },
    c.signers[i]!,
  );
}

/**
 * Sequence 1 prepared at 0, 1 and 2 and committed nowhere (every COMMIT lost); replica 3
 * never got the proposal; then the primary (0) crashed.
 */
function preparedButNotAt3(): Cluster {
  const c = new Cluster();
  c.startAll();
  c.filter = (e) => e.message.type !== 'commit' && !(e.message.type === 'proposal' && e.to === 3);
  c.submit(c.request('one'));
  c.crash(0);
  return c;
}

/**
 * The primary (0) crashed with a request pending at 1, 2 and 3; they moved to view 1, but
 * replica 3 never received its NEW-VIEW: it stays waiting, as one that lost it would.
 */
function newViewLostAt3(): Cluster {
  const c = new Cluster();
  c.startAll();
  c.crash(0);
  const r = c.request('a');
  for (const i of [1, 2, 3]) c.apply(i, c.replica(i).receive(r, c.now));
  c.filter = (e) => !(e.to === 3 && e.message.type === 'new-view');
  c.advance(TEST_OPTIONS.viewChangeTimeoutMs!);
  c.run();
  return c;
}

describe('PBFT view change', () => {
  it('replaces a silent primary: backups time out, the new primary sends NEW-VIEW, the request commits in view 1', () => {
    const c = new Cluster();
    c.startAll();
    c.crash(0);
    const r = c.request('a');
    for (const i of [1, 2, 3]) c.apply(i, c.replica(i).receive(r, c.now));
    c.run();
    expect(c.replica(1).lastExecuted).toBe(0);
    c.advance(TEST_OPTIONS.viewChangeTimeoutMs!);
    c.run();
    for (const i of [1, 2, 3]) {
      expect(c.replica(i).view).toBe(1);
      expect(c.replica(i).active).toBe(true);
    }
    // The new primary (1) holds the request as pending and proposes it in view 1.
    c.run();
    for (const i of [1, 2, 3]) expect(c.apps[i]!.get('a')).toBe('v');
    // Its pipeline restarted at one batch with the view change, and grew by one when that
    // batch executed in time; the backups' bounds are untouched.
    expect(c.replica(1).pipelineWindow).toBe(2);
    expect(c.replica(2).pipelineWindow).toBe(8);
  });

  it('replaces a crashed primary when the request reached one backup only, once that backup retransmits it to all', () => {
    // The HTTP path: a client talks to node 1 alone, whose replica forwards the request to
    // the primary, which is dead. Only replica 1 knows of it.
    const c = new Cluster();
    c.startAll();
    c.crash(0);
    const r = c.request('a');
    c.apply(1, c.replica(1).receive(r, c.now));
    c.run();
    c.advance(TEST_OPTIONS.viewChangeTimeoutMs!);
    c.run();
    // Replica 1 timed out and left view 0 alone: one VIEW-CHANGE is not enough for the others.
    expect([1, 2, 3].map((i) => c.replica(i).view)).toEqual([1, 0, 0]);
    expect(c.replica(1).active).toBe(false);
    // Handing it again as receive() does changes nothing: the request never reaches 2 and 3.
    for (let k = 0; k < 3; k++) {
      c.apply(1, c.replica(1).receive(r, c.now));
      c.run();
      c.advance(TEST_OPTIONS.viewChangeTimeoutMs!);
      c.run();
    }
    expect([2, 3].map((i) => c.replica(i).view)).toEqual([0, 0]);
    expect(c.apps[1]!.get('a')).toBeUndefined();
    // The node's client retransmits to all: 2 and 3 hold it, time out on it and join.
    const out = c.replica(1).relay(r, c.now);
    expect(out.outcome.ok).toBe(true);
    expect(out.send.filter((s) => s.message.type === 'request').map((s) => s.to)).toEqual(['all']);
    c.apply(1, out);
    c.run();
    for (let k = 0; k < 6 && c.apps[1]!.get('a') === undefined; k++) {
      c.advance(4 * TEST_OPTIONS.viewChangeTimeoutMs!);
      c.run();
    }
    for (const i of [1, 2, 3]) {
      expect(c.replica(i).active).toBe(true);
      expect(c.replica(i).view).toBeGreaterThan(0);
      expect(c.apps[i]!.get('a')).toBe('v');
    }
  });

  it('relays only what its own client retransmits: the primary and peers that got a relayed request send nothing to all', () => {
    const c = new Cluster();
    c.startAll();
    c.filter = (e) => e.message.type === 'request'; // no proposal goes out: the request stays pending
    const r = c.request('a');
    // At an active backup: the held request goes to every replica (the primary among them), once.
    c.replica(1).receive(r, c.now);
    const relayed = c
      .replica(1)
      .relay(r, c.now)
      .send.filter((s) => s.message.type === 'request');
    expect(relayed.map((s) => s.to)).toEqual(['all']);
    // A peer that gets the relayed request forwards it to the primary only, as any backup does.
    const atPeer = c
      .replica(2)
      .receive(r, c.now)
      .send.filter((s) => s.message.type === 'request');
    expect(atPeer.map((s) => s.to)).toEqual([0]);
    // The primary of the active view has it queued: a retransmission there relays nothing.
    c.replica(0).receive(r, c.now);
    const atPrimary = c
      .replica(0)
      .relay(r, c.now)
      .send.filter((s) => s.message.type === 'request');
    expect(atPrimary).toEqual([]);
    // A request not held yet is handled as any REQUEST (checked; a backup forwards it).
    const fresh = c.request('b');
    const first = c.replica(3).relay(fresh, c.now);
    expect(first.outcome.ok).toBe(true);
    expect(first.send.filter((s) => s.message.type === 'request').map((s) => s.to)).toEqual([0]);
    // A forged one is refused and relayed nowhere.
    const forged = { ...c.request('c'), signature: new Uint8Array(64) };
    const refused = c.replica(3).relay(forged, c.now);
    expect(refused.outcome.ok).toBe(false);
    expect(refused.send).toEqual([]);
  });

  it('a replica that left its view alone relays a new request of its own client at once, and one from a peer not at all', () => {
    const c = new Cluster();
    c.startAll();
    c.crash(0);
    c.apply(1, c.replica(1).receive(c.request('a'), c.now));
    c.run();
    c.advance(TEST_OPTIONS.viewChangeTimeoutMs!);
    c.run();
    expect(c.replica(1).active).toBe(false);
    // Its own client's new request: it has no primary to forward to, so every replica gets it.
    const own = c.replica(1).relay(c.request('b'), c.now);
    expect(own.outcome.ok).toBe(true);
    expect(own.send.filter((s) => s.message.type === 'request').map((s) => s.to)).toEqual(['all']);
    // The same from a peer (a relayed request): held, sent nowhere.
    const fromPeer = c.replica(1).receive(c.request('c'), c.now);
    expect(fromPeer.outcome.ok).toBe(true);
    expect(fromPeer.send.filter((s) => s.message.type === 'request')).toEqual([]);
  });

  it('re-signs a REPLY alone (a tree of one) when it is re-sent after the view moved, naming the new view', () => {
    const c = new Cluster();
    c.startAll();
    const r = c.request('a', '1');
    c.submit(r);
    const first = c.replies.find((m) => m.replica === 2)!;
    expect(first).toMatchObject({ view: 0, proof: { index: 0, count: 1 } });
    c.crash(0);
    const other = c.request('b', 'v', Ed25519Signer.fromSeed(seedOf(300)));
    for (const i of [1, 2, 3]) c.apply(i, c.replica(i).receive(other, c.now));
    c.run();
    c.advance(TEST_OPTIONS.viewChangeTimeoutMs!);
    c.run();
    expect(c.replica(2).view).toBe(1);
    // The client retransmits its executed request: the same result, in view 1.
    const again = c.replica(2).receive(r, c.now);
    expect(again.committed).toHaveLength(0);
    const m = again.replies[0]!.message;
    expect(m).toMatchObject({ type: 'reply', view: 1, replica: 2, timestamp: r.timestamp });
    expect(m.proof).toEqual({ index: 0, count: 1, siblings: [] });
    expect(m.result).toEqual(first.result);
    const verifier = new PbftVerifier();
    expect(verifier.verify(m, c.keys[2]!)).toBe(true);
    expect(verifier.verify({ ...m, view: 0 }, c.keys[2]!)).toBe(false);
    expect(verifier.verify(first, c.keys[2]!)).toBe(true); // the view-0 REPLY still verifies as view 0's
    expect(hex(m.signature)).not.toBe(hex(first.signature));
    // Kept: a further retransmission in view 1 re-sends it.
    expect(c.replica(2).receive(r, c.now).replies[0]!.message).toBe(m);
  });

  it('carries a prepared request into the new view at its sequence number, and fills gaps with null requests', () => {
    const c = new Cluster();
    c.startAll();
    // Sequence 1 prepares everywhere but its COMMITs are lost; sequence 2 never reaches anyone.
    c.filter = (e) => e.message.type !== 'commit';
    c.submit(c.request('one'));
    for (const i of [1, 2, 3]) expect(c.replica(i).lastExecuted).toBe(0);
    c.crash(0);
    c.filter = () => true;
    c.advance(TEST_OPTIONS.viewChangeTimeoutMs!);
    c.run();
    for (const i of [1, 2, 3]) {
      expect(c.replica(i).view).toBe(1);
      expect(c.replica(i).lastExecuted).toBe(1);
      expect(c.apps[i]!.get('one')).toBe('v');
    }
  });

  it('a backup that never saw a re-issued batch asks for it in STATUS and takes it from a peer (VIEW-CHANGEs carry digests only)', () => {
    const c = preparedButNotAt3();
    const asked: number[][] = [];
    const answered: number[] = [];
    const certificates: object[] = [];
    c.filter = (e) => {
      const m = e.message;
      if (m.type === 'status' && e.from === 3 && m.missingBatches.length > 0) asked.push([...m.missingBatches]);
      if (m.type === 'proposal' && e.to === 3) answered.push(e.from);
      if (m.type === 'view-change') certificates.push(...m.prepared);
      return true;
    };
    c.advance(TEST_OPTIONS.viewChangeTimeoutMs!);
    c.run();
    expect(certificates.length).toBeGreaterThan(0);
    for (const p of certificates) expect(Object.keys(p).sort()).toEqual(['prePrepare', 'prepares']);
    // Replica 3 asked for sequence 1's batch at once (not at the next STATUS tick) and got it from its peers.
    expect(asked[0]).toEqual([1]);
    expect(answered.length).toBeGreaterThan(0);
    for (const i of [1, 2, 3]) {
      expect(c.replica(i).view).toBe(1);
      expect(c.apps[i]!.get('one')).toBe('v');
    }
  });

  it('refuses a batch offered for a re-issued PRE-PREPARE that does not match its digest, and keeps waiting', () => {
    const c = preparedButNotAt3();
    // The view changes, but no batch reaches replica 3: its STATUS goes unanswered.
    let newView: PbftNewView | undefined;
    c.filter = (e) => {
      if (e.message.type === 'new-view') newView = e.message;
      return e.to !== 3 || e.message.type !== 'proposal';
    };
    c.advance(TEST_OPTIONS.viewChangeTimeoutMs!);
    c.run();
    expect(c.replica(3).view).toBe(1);
    expect(c.replica(3).lastExecuted).toBe(0);
    const pp = newView!.prePrepares.find((p) => p.seq === 1)!;
    const wrong = c.replica(3).receive({ type: 'proposal', prePrepare: pp, batch: [c.request('other')] }, c.now);
    expect(wrong.outcome).toMatchObject({ ok: false, reason: 'wrong-digest' });
    expect(wrong.send).toEqual([]);
    // Its next STATUS (fired here before any view-change timer) is answered: the batch
    // comes, replica 3 prepares, and sequence 1 commits.
    c.filter = () => true;
    c.apply(3, c.replica(3).onTimer('status', c.now));
    c.run();
    expect(c.replica(3).view).toBe(1);
    expect(c.apps[3]!.get('one')).toBe('v');
  });

  it('holds a NEW-VIEW naming VIEW-CHANGEs it lacks, asks for them in its STATUS, and installs it once they come', () => {
    const c = new Cluster();
    c.startAll();
    c.crash(0);
    const r = c.request('a');
    for (const i of [1, 2, 3]) c.apply(i, c.replica(i).receive(r, c.now));
    // Replica 3 loses the VIEW-CHANGEs of 1 and 2 sent before the NEW-VIEW reaches it.
    let newViewAt3 = false;
    const asked: number[][] = [];
    const resent = new Set<string>(); // sender:signer
    c.filter = (e) => {
      if (e.to === 3 && e.message.type === 'new-view') newViewAt3 = true;
      if (e.from === 3 && e.message.type === 'status' && e.message.missingViewChanges.length > 0 && e.to === 1) {
        asked.push([...e.message.missingViewChanges]);
      }
      if (e.to === 3 && e.message.type === 'view-change') {
        if (!newViewAt3) return false;
        resent.add(`${e.from}:${e.message.replica}`);
      }
      // Once it is in view 1, its STATUSes are lost: what it executes, it had already.
      if (e.from === 3 && e.message.type === 'status' && c.replica(3).active) return false;
      return true;
    };
    c.advance(TEST_OPTIONS.viewChangeTimeoutMs!);
    c.run();
    expect(newViewAt3).toBe(true);
    // It asked at once (not at its next STATUS tick) for exactly the two it lacked ...
    expect(asked[0]).toEqual([1, 2]);
    // ... and only the primary (both) and each signer (its own) sent them: replica 2 held
    // replica 1's too, and did not send it.
    expect([...resent].sort()).toEqual(['1:1', '1:2', '2:2']);
    expect(c.replica(3).view).toBe(1);
    expect(c.replica(3).active).toBe(true);
    // The proposal of view 1 came while it waited: held, and handled once the NEW-VIEW was
    // in, so the request executed there with no STATUS answered (before, it was refused and
    // came back only in answer to a STATUS).
    expect(c.apps[3]!.get('a')).toBe('v');
    expect(c.replica(3).lastExecuted).toBe(c.replica(1).lastExecuted);
  });

  it('names the VIEW-CHANGEs by digest: the NEW-VIEW stays small however large they are', () => {
    const c = preparedButNotAt3();
    let newView: PbftNewView | null = null;
    let largest = 0;
    c.filter = (e) => {
      if (e.message.type === 'new-view') newView = e.message;
      if (e.message.type === 'view-change') largest = Math.max(largest, encodePbftMessage(e.message).length);
      return true;
    };
    c.advance(TEST_OPTIONS.viewChangeTimeoutMs!);
    c.run();
    expect(newView).not.toBeNull();
    const nv = newView as unknown as PbftNewView;
    expect(nv.viewChanges.map((r) => r.digest.length)).toEqual([32, 32, 32]);
    // A ref is 36 bytes or so; a VIEW-CHANGE with a prepared certificate is far more.
    expect(largest).toBeGreaterThan(300);
    expect(encodePbftMessage(nv).length).toBeLessThan(nv.viewChanges.length * 40 + nv.prePrepares.length * 150 + 100);
  });

  it('re-sends its NEW-VIEW to a lagging peer at most once per base timeout, however often the peer reports', () => {
    const c = newViewLostAt3();
    expect(c.replica(1).active).toBe(true);
    expect(c.replica(3).active).toBe(false);
    const resent = (): number => {
      let n = 0;
      for (let k = 0; k < 5; k++) {
        const out = c.replica(1).receive(statusOf(c, 3), c.now);
        n += out.send.filter((s) => s.message.type === 'new-view' && s.to === 3).length;
      }
      return n;
    };
    expect(resent()).toBe(1); // five STATUSes at one instant: one NEW-VIEW
    c.now += TEST_OPTIONS.viewChangeTimeoutMs! - 1;
    expect(resent()).toBe(0);
    c.now += 1;
    expect(resent()).toBe(1);
  });

  it('sends the VIEW-CHANGEs a peer lists as missing at most once per STATUS interval, and not the NEW-VIEW it holds', () => {
    const c = newViewLostAt3();
    expect(c.replica(1).active).toBe(true);
    const asking = statusOf(c, 3, [2]);
    const answers = (): string[] => {
      const sent: string[] = [];
      for (let k = 0; k < 5; k++) {
        const out = c.replica(1).receive(asking, c.now);
        for (const x of out.send)
          if (x.to === 3) sent.push(`${x.message.type}:${'replica' in x.message ? x.message.replica : ''}`);
      }
      return sent;
    };
    expect(answers()).toEqual(['view-change:2']); // five STATUSes at one instant: one answer
    c.now += TEST_OPTIONS.statusIntervalMs! - 1;
    expect(answers()).toEqual([]);
    c.now += 1;
    expect(answers()).toEqual(['view-change:2']);
  });

  it('doubles the timeout with each consecutive view change, and waits for 2f+1 before starting it', () => {
    const c = new Cluster();
    c.startAll();
    c.crash(0);
    c.filter = (e) => e.message.type !== 'new-view'; // every new primary fails to deliver
    const r = c.request('a');
    const first = c.apply(2, c.replica(2).receive(r, c.now));
    expect(first.timers.find((t) => t.timer === 'view-change')!.atMs! - c.now).toBe(100);
    // Alone, replica 2 asks for view 1 and waits without a timer: no running ahead.
    c.advance(100);
    expect(c.replica(2).view).toBe(1);
    expect(c.timers[2]!.get('view-change')).toBeNull();
    // Replica 3 asks too: with the new primary's own view-change that is 2f+1, so the timer starts, doubled.
    c.apply(3, c.replica(3).receive(r, c.now));
    c.advance(100);
    c.run();
    expect(c.replica(3).view).toBe(1);
    expect(c.timers[3]!.get('view-change')! - c.now).toBe(200);
    c.advance(200);
    c.run();
    expect(c.replica(3).view).toBe(2);
    expect(c.replica(3).active).toBe(false);
    expect(c.timers[3]!.get('view-change')! - c.now).toBe(400);
  });

  it('joins a higher view on f+1 view-changes, not on f', () => {
    const c = new Cluster();
    c.startAll();
    c.crash(0);
    const r = c.request('a');
    c.apply(2, c.replica(2).receive(r, c.now));
    c.filter = (e) => e.to === 3; // only replica 3 hears anything
    c.advance(100); // replica 2 times out and asks for view 1
    c.run();
    expect(c.replica(3).view).toBe(0);
    c.apply(1, c.replica(1).receive(r, c.now));
    c.advance(100);
    c.run();
    expect(c.replica(3).view).toBe(1); // two (f+1) asked: it follows
  });
});

describe('PBFT state transfer', () => {
  it('a replica left behind the stable checkpoint fetches the state, verifies the proof and converges', () => {
    const c = new Cluster();
    c.startAll();
    c.filter = (e) => e.to !== 3 && e.from !== 3;
    // Seqs 1-8 (in the checkpoint) from one client, 9 and 10 (after it) from another.
    const late = Ed25519Signer.fromSeed(new Uint8Array(32).fill(77));
    const sent = Array.from({ length: 10 }, (_, i) => c.request(`k${i}`, 'v', i < 8 ? c.client : late));
    for (const r of sent) c.submit(r);
    expect(c.replica(0).stableCheckpoint).toBe(8);
    expect(c.replica(3).lastExecuted).toBe(0);
    c.filter = () => true;
    // Its STATUS tells the others it is behind: they answer with the checkpoint and certificates.
    c.advance(1000);
    c.run();
    c.advance(1000);
    c.run();
    expect(c.replica(3).stableCheckpoint).toBe(8);
    expect(c.replica(3).lastExecuted).toBe(10);
    expect(hex(c.replica(3).stateDigest())).toBe(hex(c.replica(0).stateDigest()));
    expect(c.apps[3]!.get('k9')).toBe('v');
    // Exactly-once survives the transfer: the client table came with the state.
    const out = c.replica(3).receive(c.request('x'), c.now);
    expect(out.outcome.ok).toBe(true);
    // A retransmission is answered from that table: with its seq when this replica executed
    // it, with none when it came in the snapshot (which keeps results, not seqs).
    const lastBefore = c.replica(3).receive(sent[7]!, c.now).replies;
    const executedHere = c.replica(3).receive(sent[9]!, c.now).replies;
    expect(lastBefore).toHaveLength(1);
    expect(lastBefore[0]!.seq).toBeNull();
    expect(executedHere).toHaveLength(1);
    expect(executedHere[0]!.seq).toBe(10);
  });
});

describe('PBFT recovery from the WAL', () => {
  it('recovers the committed prefix after a crash', () => {
    const c = new Cluster();
    c.startAll();
    for (let i = 0; i < 6; i++) c.submit(c.request(`k${i}`));
    const before = hex(c.replica(2).stateDigest());
    c.crash(2);
    // Replaying the executed batches signs nothing and outputs no REPLY.
    const signer = c.signers[2]!;
    const sign = signer.sign.bind(signer);
    let signatures = 0;
    signer.sign = (digest) => {
      signatures++;
      return sign(digest);
    };
    const r = c.recover(2);
    expect(signatures).toBe(0);
    expect(r.lastExecuted).toBe(6);
    expect(r.stableCheckpoint).toBe(4);
    expect(hex(r.stateDigest())).toBe(before);
    const started = c.apply(2, r.start(c.now));
    expect(started.replies).toHaveLength(0);
    c.submit(c.request('after'));
    expect(c.apps[2]!.get('after')).toBe('v');
  });

  it('never signs a PREPARE that conflicts with one signed before the crash (and would without its WAL)', () => {
    const c = new Cluster();
    c.startAll();
    const a = c.request('a');
    const b = c.request('b');
    c.filter = () => false; // replica 1 prepares and nothing else moves
    c.apply(1, c.replica(1).receive(c.proposal(0, 0, 1, [a]), c.now));
    const signed = c.wals[1]!.records().filter((r) => r.kind === 'signed' && r.message.type === 'prepare');
    expect(signed).toHaveLength(1);
    // A Byzantine primary now proposes another batch at the same (view, sequence).
    const conflicting = c.proposal(0, 0, 1, [b]);
    const prepares = (out: { send: { message: { type: string } }[] }) =>
      out.send.filter((s) => s.message.type === 'prepare');
    c.crash(1);
    const recovered = c.recover(1);
    const out = recovered.receive(conflicting, c.now);
    expect(prepares(out)).toHaveLength(0);
    expect(out.events).toContainEqual({ kind: 'refused-conflicting-vote', what: 'prepare:0:1' });
    // The same replica restarted with its log lost signs the conflicting vote: the WAL is what prevents it.
    c.crash(1);
    const amnesiac = c.recover(1, []);
    expect(prepares(amnesiac.receive(conflicting, c.now))).toHaveLength(1);
  });

  it('never goes back to an older view, and re-sends its own VIEW-CHANGE, after a crash', () => {
    const c = new Cluster();
    c.startAll();
    c.crash(0);
    const r = c.request('a');
    c.filter = () => false;
    c.apply(1, c.replica(1).receive(r, c.now));
    c.advance(100);
    expect(c.replica(1).view).toBe(1);
    const vc = c.wals[1]!.records().find((x) => x.kind === 'signed' && x.message.type === 'view-change');
    expect(vc).toBeDefined();
    c.crash(1);
    const recovered = c.recover(1);
    expect(recovered.view).toBe(1);
    expect(recovered.active).toBe(false);
    expect(recovered.receive(c.proposal(0, 0, 1, [r]), c.now).outcome).toMatchObject({ reason: 'wrong-view' });
    // Asked by a peer still in view 0, it answers with the very VIEW-CHANGE it signed before.
    const status = c.replica(2).onTimer('status', c.now).send[0]!.message;
    const answer = recovered.receive(status, c.now).send.find((s) => s.message.type === 'view-change');
    expect(answer?.message).toEqual(vc!.kind === 'signed' && vc!.message);
  });
});
