/**
 * PBFT over HTTP: POST /v1/consensus/requests answers once the request is committed
 * (result, seq, view and the replica's REPLY: a proof and signature that verify), refuses
 * bad bodies with a 400 naming the problem and no change of state, answers 409 for a
 * stale timestamp, 504 when no quorum commits in time, 503 on a node that is not a
 * validator or runs no consensus; GET /v1/consensus reports the replica and the
 * validator set.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeKvOperation } from '../../consensus/pbft/kv-app.ts';
import { defaultPbftOptions } from '../../consensus/pbft/options.ts';
import { Ed25519Verifier } from '../../protocol/crypto/ed25519.ts';
import { replyProofLength, rootFromProof } from '../../protocol/pbft/reply-tree.ts';
import { replyLeafDigest, replyRootDigest, signRequest } from '../../protocol/pbft/sign.ts';
import type { PbftRequest } from '../../protocol/pbft/types.ts';
import { type Cluster, startCluster } from '../../testnet/cluster.ts';
import { generateIdentity } from '../identity.ts';
import type { BizraNode } from '../node.ts';
import { silentLogger, startTestNode, useTempDirs } from './helpers.ts';
import { clientSigner, until, writeValidatorSet } from './pbft-helpers.ts';

const body = (r: PbftRequest, extra: Record<string, unknown> = {}) => ({
  client: Buffer.from(r.client).toString('hex'),
  timestamp: r.timestamp,
  operation: Buffer.from(r.operation).toString('base64'),
  signature: Buffer.from(r.signature).toString('hex'),
  ...extra,
});

async function post(node: BizraNode, payload: unknown) {
  const res = await node.api!.app.inject({ method: 'POST', url: '/v1/consensus/requests', payload: payload as object });
  return { status: res.statusCode, body: res.json() };
}

describe('PBFT HTTP API', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    // Five nodes, four of them validators: node 4 holds the set but is not in it.
    cluster = await startCluster(
      {
        peers: 5,
        degree: 5,
        pbft: { validators: 4, params: { checkpointInterval: 8, logWindow: 32 } },
        tune: (config) => {
          config.p2p.dht = false;
          config.consensus.statusIntervalMs = 200;
        },
      },
      { logger: silentLogger() },
    );
    await until('streams', () => cluster.nodes.slice(0, 4).every((n) => n.consensus?.streams() === 3), 10_000);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('commits a signed request and answers with the result, seq, view and a verifiable REPLY', async () => {
    const client = clientSigner(1);
    const node = cluster.nodes[2]!;
    const put = signRequest(client, 1, encodeKvOperation({ op: 'put', key: 'a', value: '1' }));
    const res = await post(node, body(put));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ committed: true, view: 0, replica: 2 });
    expect(res.body.seq).toBeGreaterThanOrEqual(1);
    expect(Buffer.from(res.body.result, 'base64').toString()).toBe('{"ok":true,"previous":null}');
    // The answer carries replica 2's REPLY: its proof folds the client's own leaf to the
    // root that replica 2 signed (once for the whole batch the request executed in).
    const { index, count, siblings } = res.body.proof;
    expect(Number.isInteger(index) && index >= 0 && index < count).toBe(true);
    expect(siblings).toHaveLength(replyProofLength(index, count)!);
    for (const s of siblings) expect(s).toMatch(/^[0-9a-f]{64}$/);
    const result = new Uint8Array(Buffer.from(res.body.result, 'base64'));
    const signature = new Uint8Array(Buffer.from(res.body.signature, 'hex'));
    const key = cluster.nodes[2]!.identity.publicKey;
    const signedFor = (r: Uint8Array): Uint8Array | null => {
      const leaf = replyLeafDigest({ client: client.publicKey, timestamp: 1, result: r });
      const root = rootFromProof(
        leaf,
        index,
        count,
        siblings.map((s: string) => Buffer.from(s, 'hex')),
      );
      return root && replyRootDigest({ view: res.body.view, replica: 2, count, root });
    };
    expect(new Ed25519Verifier().verify(key, signedFor(result)!, signature)).toBe(true);
    expect(new Ed25519Verifier().verify(key, signedFor(new TextEncoder().encode('{"ok":true}'))!, signature)).toBe(
      false,
    );

    // A retransmission of the same signed request gets the same result, and executes nowhere again.
    const executed = node.consensus!.status()!.lastExecuted;
    const again = await post(cluster.nodes[1]!, body(put));
    expect(again.status).toBe(200);
    expect(again.body.result).toBe(res.body.result);
    expect(cluster.nodes[1]!.consensus!.status()!.lastExecuted).toBe(executed);

    const get = signRequest(client, 2, encodeKvOperation({ op: 'get', key: 'a' }));
    const read = await post(cluster.nodes[0]!, body(get));
    expect(Buffer.from(read.body.result, 'base64').toString()).toBe('{"ok":true,"value":"1"}');

    // An older timestamp than the client's last executed one: 409, nothing runs.
    const stale = signRequest(client, 1, encodeKvOperation({ op: 'put', key: 'a', value: 'old' }));
    const refused = await post(cluster.nodes[3]!, body(stale, { timeoutMs: 2000 }));
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('STALE_REQUEST');
  });

  it('answers every waiter: the same request submitted twice at once, and two requests of one client in order', async () => {
    const client = clientSigner(7);
    const node = cluster.nodes[0]!;
    const first = signRequest(client, 1, encodeKvOperation({ op: 'put', key: 'w', value: '1' }));
    const second = signRequest(client, 2, encodeKvOperation({ op: 'put', key: 'w', value: '2' }));
    // Both waiters of `first` get its one REPLY; `second`, submitted right behind it to the
    // same node, executes after it (its result names the value `first` wrote), and its
    // execution must not turn `first`'s waiters into 409s when both run in one batch.
    const [a, b, c] = await Promise.all([post(node, body(first)), post(node, body(first)), post(node, body(second))]);
    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    expect(Buffer.from(a.body.result, 'base64').toString()).toBe('{"ok":true,"previous":null}');
    expect(b.body.result).toBe(a.body.result);
    expect(b.body.seq).toBe(a.body.seq);
    expect(Buffer.from(c.body.result, 'base64').toString()).toBe('{"ok":true,"previous":"1"}');
    expect(c.body.seq).toBeGreaterThanOrEqual(a.body.seq);
  });

  it('GET /v1/consensus: view, primary, executed, checkpoint and the validators', async () => {
    const res = await cluster.nodes[1]!.api!.app.inject({ method: 'GET', url: '/v1/consensus' });
    expect(res.statusCode).toBe(200);
    const s = res.json();
    expect(s).toMatchObject({
      enabled: true,
      chainId: 'bizra-testnet',
      validator: true,
      replica: 1,
      n: 4,
      f: 1,
      quorum: 3,
      running: true,
      view: 0,
      active: true,
      primary: 0,
      streams: 3,
      // A backup never proposed, so its bound is still consensus.maxBatchesInFlight.
      pipelineWindow: 8,
      params: { checkpointInterval: 8, logWindow: 32, batchSize: defaultPbftOptions.batchSize },
    });
    expect(s.lastExecuted).toBeGreaterThanOrEqual(2);
    expect(s.stableCheckpoint).toBe(0);
    expect(s.validators).toHaveLength(4);
    const metrics = await cluster.nodes[1]!.api!.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^bizra_pbft_pipeline_window 8$/m);
    expect(s.validators[1]).toMatchObject({ index: 1, peerId: cluster.nodes[1]!.peerId.toString() });
    const outsider = (await cluster.nodes[4]!.api!.app.inject({ method: 'GET', url: '/v1/consensus' })).json();
    expect(outsider).toMatchObject({ enabled: true, validator: false, replica: null, n: 4 });
    expect(outsider.view).toBeUndefined();
  });

  it('refuses bad bodies with 400 naming the problem, and nothing changes', async () => {
    const node = cluster.nodes[1]!;
    const good = body(signRequest(clientSigner(2), 5, encodeKvOperation({ op: 'put', key: 'b', value: '2' })));
    const before = node.consensus!.status()!;
    const cases: [unknown, RegExp][] = [
      [{ ...good, client: undefined }, /must have required property 'client'/],
      [{ ...good, client: 'zz'.repeat(32) }, /client must match pattern/],
      [{ ...good, timestamp: 0 }, /timestamp must be >= 1/],
      [{ ...good, timestamp: '5' }, /timestamp must be integer/],
      [{ ...good, timestamp: 1.5 }, /timestamp must be integer/],
      [{ ...good, signature: 'ab' }, /signature must match pattern/],
      [{ ...good, operation: 'not base64!' }, /operation must be standard base64/],
      [{ ...good, extra: 1 }, /must NOT have additional properties/],
      [{ ...good, timeoutMs: 5 }, /timeoutMs must be >= 100/],
      [[], /must be object/],
    ];
    for (const [payload, message] of cases) {
      const res = await post(node, payload);
      expect(res.status, JSON.stringify(payload)).toBe(400);
      expect(res.body.error.code).toBe('BAD_REQUEST');
      expect(res.body.error.message).toMatch(message);
    }
    // Well-formed but forged: the signature is another request's.
    const other = signRequest(clientSigner(2), 6, encodeKvOperation({ op: 'put', key: 'b', value: 'x' }));
    const forged = await post(node, { ...good, signature: Buffer.from(other.signature).toString('hex') });
    expect(forged.status).toBe(400);
    expect(forged.body.error).toEqual({ code: 'BAD_SIGNATURE', message: 'the client signature does not verify' });
    // Too large an operation.
    const big = await post(node, { ...good, operation: Buffer.alloc(70_000).toString('base64') });
    expect(big.status).toBe(400);
    expect(big.body.error.message).toMatch(/operation must NOT have more than|operation is \d+ bytes/);
    const after = node.consensus!.status()!;
    expect(after.pendingRequests).toBe(before.pendingRequests);
    expect(after.lastExecuted).toBe(before.lastExecuted);
    const primary = cluster.nodes[0]!.consensus!.status()!;
    expect(primary.pendingRequests).toBe(0);
  });

  it('503 on a node that is not a validator', async () => {
    const r = signRequest(clientSigner(3), 1, encodeKvOperation({ op: 'get', key: 'a' }));
    const res = await post(cluster.nodes[4]!, body(r));
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('NOT_A_VALIDATOR');
  });
});

describe('PBFT HTTP API without a quorum or without consensus', () => {
  const tempDir = useTempDirs('bizra-pbft-api-');

  it('504 when the request cannot commit in time; GET says consensus is off on a node without a set', async () => {
    // A set of four of which only two run: no quorum of three, so nothing commits.
    const root = tempDir();
    const ids = await Promise.all([0, 1, 2, 3].map(() => generateIdentity()));
    const setPath = join(root, 'set.json');
    writeValidatorSet(
      setPath,
      'no-quorum',
      { checkpointInterval: 128, logWindow: 256, batchSize: 64 },
      ids.map((id) => id.publicKey),
    );
    const { BizraNode } = await import('../node.ts');
    const { testConfig } = await import('./helpers.ts');
    const node = await BizraNode.create(
      {
        config: testConfig((c) => {
          c.consensus.validatorSet = setPath;
        }),
        dataDir: join(root, 'n1'),
        probeGpu: false,
      },
      { identity: ids[1]!, logger: silentLogger() },
    );
    const plain = await startTestNode(join(root, 'plain'));
    try {
      await node.start();
      const r = signRequest(clientSigner(4), 1, encodeKvOperation({ op: 'put', key: 'x', value: '1' }));
      const t0 = performance.now();
      const res = await post(node, body(r, { timeoutMs: 300 }));
      expect(res.status).toBe(504);
      expect(res.body.error.code).toBe('COMMIT_TIMEOUT');
      expect(res.body.error.message).toMatch(/did not commit within 300 ms/);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
      expect(node.consensus!.status()!.lastExecuted).toBe(0);

      const off = await plain.api!.app.inject({ method: 'GET', url: '/v1/consensus' });
      expect(off.json()).toEqual({ enabled: false });
      const refused = await post(plain, body(r));
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('CONSENSUS_DISABLED');
    } finally {
      await node.stop();
      await plain.stop();
    }
  });
});
