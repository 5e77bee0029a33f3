/**
 * Signature checks off the event loop: the SignaturePool answers like node:crypto for
 * valid, forged and malformed triples and fails cleanly once closed; validators with
 * `consensus.verifyWorkers` commit the same log as ever, their replicas run (almost) no
 * Ed25519 check themselves, and a forged request is still refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeKvOperation } from '../../consensus/pbft/kv-app.ts';
import { Ed25519Signer, Ed25519Verifier } from '../../protocol/crypto/ed25519.ts';
import { signRequest } from '../../protocol/pbft/sign.ts';
import { type Cluster, startCluster } from '../../testnet/cluster.ts';
import { SignaturePool } from '../consensus/signature-pool.ts';
import { silentLogger } from './helpers.ts';
import { CommittedLogs, clientSigner, until } from './pbft-helpers.ts';

describe('SignaturePool', () => {
  it('answers like a synchronous verifier, in any mix, and refuses work once closed', async () => {
    const pool = await SignaturePool.create(2, { maxBatch: 16 });
    const signers = [1, 2, 3].map((i) => Ed25519Signer.fromSeed(new Uint8Array(32).fill(i)));
    const checks = Array.from({ length: 300 }, (_, i) => {
      const signer = signers[i % 3]!;
      const digest = new Uint8Array(32).fill(i & 0xff);
      const signature = signer.sign(digest);
      if (i % 5 === 1) signature[i % 64]! ^= 1; // forged
      // i % 7 === 2: signed by someone else
      const publicKey = i % 7 === 2 ? signers[(i + 1) % 3]!.publicKey : signer.publicKey;
      return { publicKey, digest, signature };
    });
    const sync = new Ed25519Verifier();
    const expected = checks.map((c) => sync.verify(c.publicKey, c.digest, c.signature));
    expect(expected.filter((x) => x).length).toBeGreaterThan(100);
    expect(expected.filter((x) => !x).length).toBeGreaterThan(50);
    expect(await Promise.all(checks.map((c) => pool.verify(c)))).toEqual(expected);
    const good = checks[0]!;
    expect(await pool.verify({ ...good, publicKey: good.publicKey.subarray(0, 31) })).toBe(false);
    expect(await pool.verify({ ...good, signature: new Uint8Array(64) })).toBe(false);
    await pool.close();
    await expect(pool.verify(good)).rejects.toThrow('SignaturePool is closed');
    await expect(SignaturePool.create(0)).rejects.toThrow('size must be a positive integer, got 0');
  });
});

describe('PBFT validators with verify workers', () => {
  let cluster: Cluster;
  const logs = new CommittedLogs();
  beforeAll(async () => {
    cluster = await startCluster(
      {
        peers: 4,
        api: false,
        degree: 4,
        pbft: { validators: 4, sharedVerifier: false, params: { checkpointInterval: 8, logWindow: 32 } },
        tune: (config) => {
          config.p2p.dht = false;
          config.consensus.verifyWorkers = 1;
        },
      },
      { logger: silentLogger() },
    );
    for (const n of cluster.nodes) logs.watch(n);
    await until('streams', () => cluster.nodes.every((n) => n.consensus?.streams() === 3), 10_000);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('commits the same log everywhere with the checks on the workers, and still refuses a forged request', async () => {
    const primary = cluster.nodes[0]!.consensus!;
    const answers = await Promise.all(
      Array.from({ length: 8 }, async (_, c) => {
        const client = clientSigner(c);
        const out = [];
        for (let ts = 1; ts <= 5; ts++) {
          out.push(
            await primary.submit(
              signRequest(client, ts, encodeKvOperation({ op: 'put', key: `k${c}`, value: `${ts}` })),
            ),
          );
        }
        return out;
      }),
    );
    expect(answers.flat().every((a) => a.ok)).toBe(true);
    const last = primary.status()!.lastExecuted;
    await until(
      'every replica executed',
      () => cluster.nodes.every((n) => n.consensus!.status()!.lastExecuted === last),
      10_000,
    );
    expect(logs.conflicts()).toEqual([]);
    const digests = cluster.nodes.map((n) => Buffer.from(n.consensus!.replica!.stateDigest()).toString('hex'));
    expect(new Set(digests).size).toBe(1);
    // 40 client signatures and every vote were checked on the workers: the replicas'
    // own Ed25519 runs are at most a handful (inputs the shell does not pre-check).
    for (const n of cluster.nodes) expect(n.consensus!.verifier.verifications).toBeLessThan(5);

    const forged = signRequest(clientSigner(99), 1, encodeKvOperation({ op: 'put', key: 'evil', value: '1' }));
    const bad = { ...forged, signature: forged.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    const refused = await primary.submit(bad);
    expect(refused).toMatchObject({ ok: false, status: 400, code: 'BAD_SIGNATURE' });
    expect(primary.status()!.lastExecuted).toBe(last);
  });
});
