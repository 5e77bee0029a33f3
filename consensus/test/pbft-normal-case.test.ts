/** The normal case: ordering, execution, replies, exactly-once, the client's f+1 rule, checkpoints and GC. */
import { describe, expect, it } from 'vitest';
import { Ed25519Signer } from '../../protocol/crypto/ed25519.ts';
import { replyRootDigest, replyRootOf, signedDigest, signPbft } from '../../protocol/pbft/sign.ts';
import type { PbftStatus } from '../../protocol/pbft/types.ts';
import { PbftVerifier } from '../../protocol/pbft/verifier.ts';
import { PbftClient } from '../pbft/client.ts';
import type { PbftClientReply } from '../pbft/output.ts';
import { compactWal } from '../pbft/wal.ts';
import { Cluster, seedOf, TEST_OPTIONS } from './pbft-harness.ts';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('PBFT normal case', () => {
  it('orders a request, executes it everywhere and replies from every replica', () => {
    const c = new Cluster();
    c.startAll();
    c.submit(c.request('a', '1'));
    for (let i = 0; i < 4; i++) {
      expect(c.replica(i).lastExecuted).toBe(1);
      expect(c.apps[i]!.get('a')).toBe('1');
    }
    expect(c.replies.map((r) => r.replica).sort()).toEqual([0, 1, 2, 3]);
    expect(new Set(c.replies.map((r) => text(r.result)))).toEqual(new Set(['{"ok":true,"previous":null}']));
    const digests = [0, 1, 2, 3].map((i) => Buffer.from(c.replica(i).stateDigest()).toString('hex'));
    expect(new Set(digests).size).toBe(1);
  });

  it('signs a REPLY only when the shell reads it, and once per view', () => {
    const c = new Cluster();
    c.startAll();
    const signer = c.signers[1]!;
    let signatures = 0;
    const sign = signer.sign.bind(signer);
    signer.sign = (message) => {
      signatures++;
      return sign(message);
    };
    // Replica 1's replies are held back unread; everything else runs as usual.
    const held: PbftClientReply[] = [];
    const apply = c.apply.bind(c);
    c.apply = (from, out) => {
      if (from !== 1) return apply(from, out);
      held.push(...out.replies);
      return apply(from, { ...out, replies: [] });
    };
    const r = c.request('lazy', '1');
    c.submit(r);
    expect(c.replica(1).lastExecuted).toBe(1);
    expect(held).toHaveLength(1);
    expect(held[0]!.timestamp).toBe(r.timestamp);
    expect(held[0]!.seq).toBe(1);
    const beforeRead = signatures;
    const reply = held[0]!.message;
    expect(signatures).toBe(beforeRead + 1);
    expect(reply).toMatchObject({ type: 'reply', replica: 1, timestamp: r.timestamp, view: 0 });
    expect(text(reply.result)).toBe('{"ok":true,"previous":null}');
    expect(c.verifier.verify(reply, c.keys[1]!)).toBe(true);
    // Read again, or re-sent for a retransmission in the same view: the same signature.
    expect(held[0]!.message).toBe(reply);
    const again = c.replica(1).receive(r, c.now);
    expect(again.replies[0]!.message).toBe(reply);
    expect(again.replies[0]!.seq).toBe(1); // where it was executed, also when re-sent
    expect(signatures).toBe(beforeRead + 1);
  });

  it('signs the REPLYs of a batch once, on the first read of any, and not at all when none is read', () => {
    const c = new Cluster(4, { ...TEST_OPTIONS, batchSize: 3, batchDelayMs: 5 });
    c.startAll();
    const signed = c.signers.map(() => [] as string[]);
    c.signers.forEach((signer, i) => {
      const sign = signer.sign.bind(signer);
      signer.sign = (digest) => {
        signed[i]!.push(hex(digest));
        return sign(digest);
      };
    });
    // Every replica's replies are held back unread.
    const held = c.signers.map(() => [] as PbftClientReply[]);
    const apply = c.apply.bind(c);
    c.apply = (from, out) => {
      held[from]!.push(...out.replies);
      return apply(from, { ...out, replies: [] });
    };
    const clients = [1, 2, 3].map((k) => Ed25519Signer.fromSeed(seedOf(200 + k)));
    const requests = clients.map((s, i) => c.request(`batch${i}`, String(i), s));
    for (const r of requests) c.apply(0, c.replica(0).receive(r, c.now));
    c.run();
    for (let i = 0; i < 4; i++) {
      expect(c.replica(i).lastExecuted).toBe(1); // one batch of three
      expect(held[i]!.map((h) => h.timestamp)).toEqual(requests.map((r) => r.timestamp));
    }
    // Nothing read yet: each replica signed its two votes (PRE-PREPARE or PREPARE, and COMMIT), no REPLY.
    expect(signed.map((s) => s.length)).toEqual([2, 2, 2, 2]);

    const replies = held[1]!.map((h) => h.message);
    expect(signed[1]).toHaveLength(3); // one signature for the three
    expect(held[1]!.map((h) => h.message)).toEqual(replies); // read again: nothing more
    expect(signed[1]).toHaveLength(3);
    expect(signed[1]![2]).toBe(hex(signedDigest(replies[0]!)));
    const verifier = new PbftVerifier();
    replies.forEach((r, i) => {
      expect(r).toMatchObject({
        view: 0,
        replica: 1,
        timestamp: requests[i]!.timestamp,
        proof: { index: i, count: 3 },
      });
      expect(r.client).toEqual(clients[i]!.publicKey);
      expect(verifier.verify(r, c.keys[1]!)).toBe(true);
    });
    expect(verifier.verifications).toBe(1);
    expect(text(replies[2]!.result)).toBe('{"ok":true,"previous":null}');
    expect(verifier.verify({ ...replies[2]!, result: new TextEncoder().encode('{"ok":true}') }, c.keys[1]!)).toBe(
      false,
    );
    expect(verifier.verify(replies[0]!, c.keys[2]!)).toBe(false);

    // Replica 2's replies were never read: it never signed its root.
    const root2 = replyRootDigest({ view: 0, replica: 2, count: 3, root: replyRootOf(replies[0]!).root });
    expect(signed[2]).toHaveLength(2);
    expect(signed[2]).not.toContain(hex(root2));
    // A retransmission in the same view gets the REPLY kept from the batch: no new signature.
    const again = c.replica(1).receive(requests[1]!, c.now);
    expect(again.replies[0]!.message).toBe(replies[1]);
    expect(signed[1]).toHaveLength(3);
  });

  it('executes a retransmitted request once and re-sends its reply; drops older timestamps', () => {
    const c = new Cluster();
    c.startAll();
    const r1 = c.request('k', 'x');
    const r2 = c.request('k', 'y');
    c.submit(r1);
    c.submit(r2);
    expect(c.apps[1]!.get('k')).toBe('y');
    c.replies.length = 0;
    const again = c.replica(1).receive(r2, c.now);
    expect(again.outcome.ok).toBe(true);
    expect(again.replies).toHaveLength(1);
    expect(text(again.replies[0]!.message.result)).toBe('{"ok":true,"previous":"x"}');
    expect(again.committed).toHaveLength(0);
    const old = c.replica(1).receive(r1, c.now);
    expect(old.outcome).toMatchObject({ ok: false, reason: 'stale-request' });
    // A primary re-proposing an executed request changes nothing: exactly once.
    c.submit(c.request('other'));
    const seq = c.replica(0).lastExecuted + 1;
    c.apply(0, {
      persist: [],
      send: [{ to: 'all', message: c.proposal(0, 0, seq, [r2]) }],
      replies: [],
      timers: [],
      committed: [],
      events: [],
    });
    c.run();
    expect(c.replica(1).lastExecuted).toBe(seq);
    expect(c.apps[1]!.get('k')).toBe('y');
  });

  it('batches up to batchSize requests per PRE-PREPARE, and holds a partial batch for batchDelayMs', () => {
    const c = new Cluster(4, { checkpointInterval: 4, logWindow: 8, batchSize: 3, batchDelayMs: 5 });
    c.startAll();
    const out = c.replica(0).receive(c.request('a'), c.now);
    expect(out.send).toHaveLength(0);
    expect(out.timers).toContainEqual({ timer: 'batch', atMs: c.now + 5 });
    c.apply(0, out);
    c.apply(0, c.replica(0).receive(c.request('b'), c.now));
    const third = c.apply(0, c.replica(0).receive(c.request('c'), c.now));
    const proposals = third.send.filter((s) => s.message.type === 'proposal');
    expect(proposals).toHaveLength(1);
    expect(proposals[0]!.message.type === 'proposal' && proposals[0]!.message.batch).toHaveLength(3);
    c.run();
    c.apply(0, c.replica(0).receive(c.request('d'), c.now));
    expect(c.queue).toHaveLength(0);
    c.advance(5);
    c.run();
    expect(c.replica(3).lastExecuted).toBe(2);
    expect(c.apps[3]!.get('d')).toBe('v');
  });

  it('cuts a partial batch only while fewer than partialBatchWindow are in flight, and the held one when a batch executes', () => {
    const opts = { checkpointInterval: 4, logWindow: 8, batchSize: 3, batchDelayMs: 5, partialBatchWindow: 1 };
    const c = new Cluster(4, opts);
    c.startAll();
    const proposals = () => c.wals[0]!.records().filter((r) => r.kind === 'signed' && r.message.type === 'proposal');
    c.apply(0, c.replica(0).receive(c.request('a'), c.now));
    c.advance(5); // a's delay ran out, nothing in flight: proposed alone
    expect(proposals()).toHaveLength(1);
    c.apply(0, c.replica(0).receive(c.request('b'), c.now));
    c.advance(5); // b's delay ran out, but a is in flight: held back, no timer left armed
    expect(proposals()).toHaveLength(1);
    expect(c.timers[0]!.get('batch') ?? null).toBeNull();
    c.apply(0, c.replica(0).receive(c.request('c'), c.now));
    expect(proposals()).toHaveLength(1); // b and c together still fall short of a full batch
    c.run(); // a executes at the primary: b and c go out as one batch
    expect(proposals()).toHaveLength(2);
    const second = proposals()[1]!;
    expect(second.kind === 'signed' && second.message.type === 'proposal' && second.message.batch).toHaveLength(2);
    expect(c.replica(3).lastExecuted).toBe(2);
    expect(c.apps[3]!.get('c')).toBe('v');
    // A full batch goes out whatever partial batches are in flight (up to maxBatchesInFlight).
    c.filter = () => false;
    for (const k of ['d', 'e', 'f', 'g', 'h', 'i']) c.apply(0, c.replica(0).receive(c.request(k), c.now));
    expect(proposals()).toHaveLength(4);
  });

  describe("the primary's pipeline bound", () => {
    // One request a batch; viewChangeTimeoutMs 100 makes the latency target 25 ms.
    const opts = {
      checkpointInterval: 8,
      logWindow: 32,
      batchSize: 1,
      batchDelayMs: 0,
      partialBatchWindow: 8,
      maxBatchesInFlight: 4,
      viewChangeTimeoutMs: 100,
      statusIntervalMs: 10_000,
    };
    const proposalsOf = (c: Cluster) =>
      c.wals[0]!.records().filter((r) => r.kind === 'signed' && r.message.type === 'proposal').length;
    /** Hands `keys` to the primary without delivering anything it sends. */
    const queueAtPrimary = (c: Cluster, keys: string[]) => {
      for (const k of keys) c.apply(0, c.replica(0).receive(c.request(k), c.now));
    };

    it('keeps at most maxBatchesInFlight batches in flight and sends the rest as batches execute', () => {
      const c = new Cluster(4, opts);
      c.startAll();
      expect(c.replica(0).pipelineWindow).toBe(4);
      queueAtPrimary(c, ['a', 'b', 'c', 'd', 'e', 'f']);
      expect(proposalsOf(c)).toBe(4);
      expect(c.replica(0).status().pendingRequests).toBe(6);
      c.run();
      expect(proposalsOf(c)).toBe(6);
      for (let i = 0; i < 4; i++) expect(c.replica(i).lastExecuted).toBe(6);
      expect(c.apps[2]!.get('f')).toBe('v');
    });

    it('halves once per round when batches execute later than a quarter of the view-change timeout, and grows back by one per round', () => {
      const c = new Cluster(4, opts);
      c.startAll();
      queueAtPrimary(c, ['a', 'b', 'c', 'd']);
      c.advance(30); // every batch of the round executes 30 ms after its proposal
      c.run();
      expect(c.replica(0).lastExecuted).toBe(4);
      expect(c.replica(0).pipelineWindow).toBe(2); // four late batches, one round: halved once
      queueAtPrimary(c, ['e', 'f']);
      c.advance(30);
      c.run();
      expect(c.replica(0).pipelineWindow).toBe(1); // a new round late again: halved again
      queueAtPrimary(c, ['g']);
      c.advance(30);
      c.run();
      expect(c.replica(0).lastExecuted).toBe(7);
      expect(c.replica(0).pipelineWindow).toBe(1); // never below one
      // Prompt batches: +1/bound each, so one per round of bound batches.
      c.submit(c.request('h'));
      expect(c.replica(0).pipelineWindow).toBe(2);
      c.submit(c.request('i'));
      expect(c.replica(0).pipelineWindow).toBe(2);
      c.submit(c.request('j'));
      expect(c.replica(0).pipelineWindow).toBe(3);
      for (const k of ['k', 'l', 'm', 'n', 'o', 'p']) c.submit(c.request(k));
      expect(c.replica(0).pipelineWindow).toBe(4); // capped at maxBatchesInFlight
      expect(c.replica(3).lastExecuted).toBe(16);
    });

    it('refuses a maxBatchesInFlight below one', () => {
      expect(() => new Cluster(4, { ...opts, maxBatchesInFlight: 0 })).toThrow(
        'pbft option maxBatchesInFlight must be an integer >= 1, got 0',
      );
    });
  });

  it("answers a stuck replica's STATUS with only the proposal and votes it says it lacks", () => {
    const c = new Cluster();
    c.startAll();
    c.filter = (e) => e.message.type !== 'commit'; // every COMMIT is lost: nothing executes
    c.submit(c.request('a'));
    for (let i = 0; i < 4; i++) expect(c.replica(i).lastExecuted).toBe(0);
    const status = c.replica(3).onTimer('status', c.now).send[0]!.message as PbftStatus;
    expect(status.type).toBe('status');
    // Replica 3 holds the proposal, the PREPAREs of 1, 2 and itself, and its own COMMIT.
    expect(status.slots).toEqual([
      { seq: 1, prePrepared: true, prepares: Uint8Array.of(0b1110), commits: Uint8Array.of(0b1000) },
    ]);
    const answersTo = (s: PbftStatus): string[] => {
      const sent: string[] = [];
      for (const from of [0, 1, 2]) {
        c.replica(from).receive(s, c.now); // the first STATUS only notes its lastExecuted
        for (const x of c.replica(from).receive(s, c.now).send) {
          if (x.to === 3) sent.push(`${from}:${x.message.type}`);
        }
      }
      return sent;
    };
    expect(answersTo(status)).toEqual(['0:commit', '1:commit', '2:commit']);
    // The same STATUS describing nothing: everything each peer holds of sequence 1.
    const bare = signPbft<PbftStatus>({ ...status, slots: [] }, c.signers[3]!);
    expect(answersTo(bare)).toEqual(['0:proposal', '0:commit', '1:prepare', '1:commit', '2:prepare', '2:commit']);
    // The COMMITs are what it lacked: with them it executes.
    c.filter = () => true;
    c.queue.length = 0;
    for (const from of [0, 1, 2]) {
      for (const x of c.replica(from).receive(status, c.now).send)
        if (x.to === 3) c.replica(3).receive(x.message, c.now);
    }
    expect(c.replica(3).lastExecuted).toBe(1);
  });

  it('the client accepts a result on f+1 matching replies, not before, and refuses forged ones', () => {
    const c = new Cluster();
    c.startAll();
    const client = new PbftClient(c.keys, {}, { signer: c.client });
    const send = client.submit(new TextEncoder().encode('{"op":"put","key":"z","value":"1"}'), c.now);
    expect(send.to).toBe(0);
    c.submit(send.message);
    const [first, second] = c.replies;
    expect(client.receive(first!)).toEqual({ accepted: true, result: null });
    expect(client.receive({ ...second!, result: new Uint8Array([1]) })).toMatchObject({ accepted: false });
    const done = client.receive(second!);
    expect(done.accepted && done.result && text(done.result)).toBe('{"ok":true,"previous":null}');
    expect(client.outstanding).toBeNull();
    const other = new PbftClient(c.keys, {}, { signer: Ed25519Signer.fromSeed(seedOf(77)) });
    other.submit(new Uint8Array([1]), c.now);
    expect(other.receive(first!)).toMatchObject({ accepted: false, reason: 'the reply is for another request' });
    expect(other.onTimer(c.now)?.to).toBe('all');
  });

  it('a gateway client sends only to its validator and takes its reply alone, refusing the others', () => {
    const c = new Cluster();
    c.startAll();
    const client = new PbftClient(c.keys, { gateway: 2 }, { signer: c.client });
    const send = client.submit(new TextEncoder().encode('{"op":"put","key":"g","value":"1"}'), c.now);
    expect(send.to).toBe(2);
    expect(client.onTimer(c.now)?.to).toBe(2);
    c.submit(send.message);
    const byReplica = new Map(c.replies.map((r) => [r.replica, r]));
    expect(client.receive(byReplica.get(0)!)).toEqual({
      accepted: false,
      reason: 'the reply is from replica 0, not the gateway 2',
    });
    expect(client.receive({ ...byReplica.get(2)!, result: new Uint8Array([1]) })).toMatchObject({ accepted: false });
    expect(client.outstanding).not.toBeNull();
    const done = client.receive(byReplica.get(2)!);
    expect(done.accepted && done.result && text(done.result)).toBe('{"ok":true,"previous":null}');
    expect(client.outstanding).toBeNull();
    for (const gateway of [-1, 4, 1.5]) {
      expect(() => new PbftClient(c.keys, { gateway }, { signer: c.client })).toThrow(
        /gateway must be a validator index below 4/,
      );
    }
  });

  it('makes a checkpoint stable with 2f+1 CHECKPOINTs, moves the watermark and garbage-collects the log and the WAL', () => {
    const c = new Cluster();
    c.startAll();
    for (let i = 0; i < 5; i++) c.submit(c.request(`k${i}`));
    // batchSize 2, batchDelayMs 0: each request is its own batch here.
    for (let i = 0; i < 4; i++) {
      expect(c.replica(i).lastExecuted).toBe(5);
      expect(c.replica(i).stableCheckpoint).toBe(4);
      expect(c.replica(i).checkpointDigest(4)).toEqual(c.replica(0).checkpointDigest(4));
    }
    const wal = c.wals[1]!.records();
    expect(wal.filter((r) => r.kind === 'stable')).toHaveLength(1);
    // Only sequence 5's records survive the stable checkpoint at 4.
    expect(
      wal.filter((r) => r.kind === 'executed').map((r) => r.kind === 'executed' && r.cert.commits[0]!.seq),
    ).toEqual([5]);
    expect(compactWal(wal)).toEqual(wal);
    // The log window moved: sequence 12 (= 4 + L) is in, 13 is out.
    const r = c.request('w');
    expect(c.replica(1).receive(c.proposal(0, 0, 13, [r]), c.now).outcome).toMatchObject({
      reason: 'outside-watermarks',
    });
    expect(c.replica(1).receive(c.proposal(0, 0, 12, [r]), c.now).outcome.ok).toBe(true);
    // Below the stable checkpoint everything is refused.
    expect(c.replica(1).receive(c.vote('prepare', 2, 0, 3, new Uint8Array(32)), c.now).outcome).toMatchObject({
      reason: 'outside-watermarks',
    });
  });

  it('the primary stops at the high watermark until a checkpoint becomes stable', () => {
    const c = new Cluster();
    c.startAll();
    // Backups never answer: nothing commits, so the primary can use sequence numbers 1..8 only.
    c.filter = () => false;
    for (let i = 0; i < 12; i++) c.submit(c.request(`k${i}`));
    const proposed = c.wals[0]!.records().filter((r) => r.kind === 'signed' && r.message.type === 'proposal');
    expect(proposed).toHaveLength(8);
  });
});
