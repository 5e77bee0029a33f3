/**
 * The consensus service hands a burst of inputs to the replica in time slices, letting
 * I/O through between them: the batch timer that fires in between must not cut the
 * burst into small batches (it is held until the queued inputs are in), and every
 * request of the burst must execute exactly once. VIEW-CHANGEs, NEW-VIEWs and STATUSes
 * asking for VIEW-CHANGEs do not wait behind the queue.
 */
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { encodeKvOperation } from '../../consensus/pbft/kv-app.ts';
import { PbftReplica } from '../../consensus/pbft/replica.ts';
import { Ed25519Signer } from '../../protocol/crypto/ed25519.ts';
import { encodePbftMessage } from '../../protocol/pbft/codec.ts';
import { signPbft, signRequest } from '../../protocol/pbft/sign.ts';
import type { PbftStatus, PbftViewChange } from '../../protocol/pbft/types.ts';
import { generateIdentity, type NodeIdentity } from '../identity.ts';
import { BizraNode } from '../node.ts';
import { silentLogger, testConfig, useTempDirs } from './helpers.ts';
import { clientSigner, writeValidatorSet } from './pbft-helpers.ts';

/** A validator node of a set of `keys` (batches of 64, a 2 ms batch delay), not started. */
async function validator(
  root: string,
  identity: NodeIdentity,
  keys: Uint8Array[],
  statusIntervalMs?: number,
): Promise<BizraNode> {
  const setPath = join(root, 'set.json');
  writeValidatorSet(setPath, 'slices', { checkpointInterval: 128, logWindow: 256, batchSize: 64 }, keys);
  return BizraNode.create(
    {
      config: testConfig((c) => {
        c.consensus.validatorSet = setPath;
        c.consensus.batchDelayMs = 2;
        if (statusIntervalMs !== undefined) c.consensus.statusIntervalMs = statusIntervalMs;
      }),
      dataDir: join(root, 'node'),
      probeGpu: false,
    },
    { identity, logger: silentLogger() },
  );
}

describe('PBFT input slices', () => {
  const tempDir = useTempDirs('bizra-pbft-slices-');

  it('a burst of requests fills whole batches and each executes once', async () => {
    const identity = await generateIdentity();
    const node = await validator(tempDir(), identity, [identity.publicKey]);
    try {
      await node.start();
      const consensus = node.consensus!;
      const sizes: number[] = [];
      const executed = new Set<string>();
      consensus.onCommitted((c) => {
        sizes.push(c.requests.length);
        for (const r of c.requests) executed.add(Buffer.from(r.client).toString('hex'));
      });
      // 200 requests, each signature check ~0.1-0.2 ms: far more than one slice, and the
      // 2 ms batch timer fires while they are being handed over.
      const requests = Array.from({ length: 200 }, (_, i) =>
        signRequest(clientSigner(i), 1, encodeKvOperation({ op: 'put', key: `k${i}`, value: 'v' })),
      );
      const answers = await Promise.all(requests.map((r) => consensus.submit(r)));
      expect(answers.filter((a) => !a.ok)).toEqual([]);
      expect(sizes).toEqual([64, 64, 64, 8]);
      expect(executed.size).toBe(200);
    } finally {
      await node.stop();
    }
  });
});

/**
 * A node that is replica 1 (the primary of view 1) of four; replicas 0, 2 and 3 are keys
 * only (`others`, in that order), with signers seeded from `seed`. Not started.
 */
async function replicaOne(
  root: string,
  seed: number,
  statusIntervalMs?: number,
): Promise<{ node: BizraNode; others: Ed25519Signer[] }> {
  const identity = await generateIdentity();
  const others = [0, 2, 3].map((i) => Ed25519Signer.fromSeed(new Uint8Array(32).fill(seed + i)));
  const keys = [others[0]!.publicKey, identity.publicKey, others[1]!.publicKey, others[2]!.publicKey];
  return { node: await validator(root, identity, keys, statusIntervalMs), others };
}

/** Submits `count` requests of distinct clients, leaving the answers to time out (nothing commits with no peer up). */
function submitBurst(node: BizraNode, count: number): void {
  for (let i = 0; i < count; i++) {
    const r = signRequest(clientSigner(i), 1, encodeKvOperation({ op: 'put', key: `k${i}`, value: 'v' }));
    void node.consensus!.submit(r, 60_000);
  }
}

describe('PBFT input order', () => {
  const tempDir = useTempDirs('bizra-pbft-order-');

  it('VIEW-CHANGEs overtake a queued burst of requests: the view changes before the burst is handed over', async () => {
    const { node, others } = await replicaOne(tempDir(), 40);
    try {
      await node.start();
      const consensus = node.consensus!;
      submitBurst(node, 200);
      // f + 1 = 2 VIEW-CHANGEs for view 1 arrive behind the burst: replica 1 joins and, as
      // the primary of view 1 holding 2f + 1 (its own included), sends NEW-VIEW at once.
      for (const [replica, signer] of [
        [2, others[1]!],
        [3, others[2]!],
      ] as const) {
        const vc = signPbft<PbftViewChange>(
          { type: 'view-change', newView: 1, checkpointSeq: 0, checkpointProof: [], prepared: [], replica },
          signer,
        );
        consensus.receiveFrame(replica, encodePbftMessage(vc));
      }
      // Requests the service handed over from its queue (the ones a NEW-VIEW re-hands at
      // once, as a client's retransmission, are not counted here).
      const handedOver = async (): Promise<number> =>
        (await node.metrics.pbftMessages.get()).values
          .filter((v) => v.labels.type === 'request')
          .reduce((sum, v) => sum + v.value, 0);
      let atViewOne = -1;
      while (atViewOne < 0) {
        await new Promise((r) => setImmediate(r));
        const s = consensus.status()!;
        if (s.view === 1 && s.active) atViewOne = await handedOver();
      }
      // After a slice or two, not after the 200 requests' signature checks.
      expect(atViewOne).toBeLessThan(100);
      await vi.waitFor(async () => expect(await handedOver()).toBe(200), { timeout: 10_000 });
    } finally {
      await node.stop();
    }
  });
  it('a STATUS asking for VIEW-CHANGEs overtakes a queued burst; a plain STATUS waits its turn', async () => {
    const { node, others } = await replicaOne(tempDir(), 50);
    try {
      await node.start();
      const consensus = node.consensus!;
      submitBurst(node, 200);
      const status = (replica: number, signer: Ed25519Signer, missingViewChanges: number[]): Uint8Array =>
        encodePbftMessage(
          signPbft<PbftStatus>(
            {
              type: 'status',
              view: 1,
              active: false,
              lastExecuted: 0,
              stableCheckpoint: 0,
              missingBatches: [],
              missingViewChanges,
              slots: [],
              replica,
            },
            signer,
          ),
        );
      consensus.receiveFrame(3, status(3, others[2]!, []));
      consensus.receiveFrame(2, status(2, others[1]!, [0, 3]));
      const counted = async (type: string): Promise<number> =>
        (await node.metrics.pbftMessages.get()).values
          .filter((v) => v.labels.type === type)
          .reduce((sum, v) => sum + v.value, 0);
      let atFirstStatus = -1;
      while (atFirstStatus < 0) {
        await new Promise((r) => setImmediate(r));
        if ((await counted('status')) > 0) atFirstStatus = await counted('request');
      }
      expect(atFirstStatus).toBeLessThan(100);
      await vi.waitFor(async () => expect(await counted('status')).toBe(2), { timeout: 10_000 });
      expect(await counted('request')).toBe(200);
    } finally {
      await node.stop();
    }
  });
  it('holds its STATUS while its queue is more than a STATUS interval behind, and sends it once caught up', async () => {
    const { node } = await replicaOne(tempDir(), 60, 10);
    // The requests checked when each STATUS timer reaches the replica.
    const fired: number[] = [];
    const onTimer = PbftReplica.prototype.onTimer;
    const spy = vi.spyOn(PbftReplica.prototype, 'onTimer').mockImplementation(function (this: PbftReplica, timer, now) {
      if (timer === 'status') fired.push(node.consensus!.verifications);
      return onTimer.call(this, timer, now);
    });
    try {
      await node.start();
      const consensus = node.consensus!;
      const total = 2_000;
      const before = consensus.verifications;
      submitBurst(node, total);
      await vi.waitFor(() => expect(consensus.verifications - before).toBeGreaterThanOrEqual(total), {
        timeout: 20_000,
      });
      const during = fired.filter((v) => v - before > total * 0.1 && v - before < total * 0.9);
      // The burst takes far more than 10 ms (hundreds of 10 ms intervals on a slow core);
      // at most one STATUS comes while the queue is still young.
      expect(during.length).toBeLessThanOrEqual(1);
      await vi.waitFor(() => expect(fired.some((v) => v - before >= total)).toBe(true), { timeout: 5_000 });
    } finally {
      spy.mockRestore();
      await node.stop();
    }
  });
});
