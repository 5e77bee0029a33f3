import { describe, expect, it } from 'vitest';
import { Cluster, seedOf, TEST_OPTIONS } from '../../consensus/test/pbft-harness.ts';
import { Ed25519Signer } from '../../protocol/crypto/ed25519.ts';
import type { PbftReply } from '../../protocol/pbft/types.ts';
import { type CommittedAnswer, checkReply } from '../cli/reply-check.ts';
import type { ValidatorSetFile } from '../consensus/validator-set.ts';

/** The HTTP API's body for a REPLY (node/api/routes-consensus.ts). */
const answerOf = (r: PbftReply): CommittedAnswer => ({
  view: r.view,
  replica: r.replica,
  result: Buffer.from(r.result).toString('base64'),
  proof: {
    index: r.proof.index,
    count: r.proof.count,
    siblings: r.proof.siblings.map((s) => Buffer.from(s).toString('hex')),
  },
  signature: Buffer.from(r.signature).toString('hex'),
});

function committed() {
  // Batches of 3, so REPLYs carry real proofs (a tree of three leaves).
  const c = new Cluster(4, { ...TEST_OPTIONS, batchSize: 3, batchDelayMs: 5 });
  c.startAll();
  const clients = [1, 2, 3].map((k) => Ed25519Signer.fromSeed(seedOf(300 + k)));
  const requests = clients.map((signer, i) => c.request(`k${i}`, String(i), signer));
  // Handed to the primary together, then run: one batch of three.
  for (const r of requests) c.apply(0, c.replica(0).receive(r, c.now));
  c.run();
  const set: ValidatorSetFile = {
    chainId: 'test',
    params: { checkpointInterval: 8, logWindow: 16, batchSize: 3 },
    validators: c.keys.map((publicKey) => ({ publicKey, peerId: 'p', addresses: [] })),
  };
  const request = requests[1]!;
  const reply = c.replies.find(
    (r) =>
      r.replica === 2 && Buffer.from(r.client).equals(Buffer.from(request.client)) && r.timestamp === request.timestamp,
  )!;
  return { request, reply, set, other: requests[0]! };
}

describe('bizra consensus submit: the REPLY check', () => {
  it('accepts the REPLY the replica signed for this request', () => {
    const { request, reply, set } = committed();
    expect(reply.proof.count).toBe(3);
    expect(checkReply(answerOf(reply), request, set)).toBeNull();
  });

  it('refuses a changed result, another replica, another request, a bad proof or signature, and junk', () => {
    const { request, reply, set, other } = committed();
    const good = answerOf(reply);
    const refused = (a: CommittedAnswer, r = request) => checkReply(a, r, set);
    expect(refused({ ...good, result: Buffer.from('{"ok":true,"previous":"forged"}').toString('base64') })).toMatch(
      /does not verify under replica 2's key/,
    );
    expect(refused({ ...good, replica: 1 })).toMatch(/does not verify under replica 1's key/);
    expect(refused({ ...good, replica: 9 })).toMatch(/names replica 9, and the validator set \(chain test\) has 4/);
    expect(refused(good, other)).toMatch(/does not verify/);
    const proof = good.proof as { index: number; count: number; siblings: string[] };
    expect(refused({ ...good, proof: { ...proof, index: (proof.index + 1) % 3 } })).toMatch(/does not verify/);
    expect(refused({ ...good, signature: `${'0'.repeat(127)}1` })).toMatch(/does not verify/);
    expect(refused({ ...good, signature: 'abc' })).toMatch(/not a REPLY: no 64-byte signature/);
    expect(refused({ ...good, proof: { ...proof, siblings: ['zz'] } })).toMatch(/not a REPLY: no proof siblings/);
    expect(refused({ ...good, view: -1 })).toMatch(/not a REPLY: no view/);
    expect(refused({})).toMatch(/not a REPLY/);
  });
});
