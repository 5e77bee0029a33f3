import { afterEach, describe, expect, it } from 'vitest';
import { PCI_TOPIC } from '../../protocol/topics.ts';
import { type Cluster, startCluster } from '../../testnet/cluster.ts';
import type { BizraNode } from '../node.ts';
import { submitOverStream } from '../pci/pci-stream.ts';
import { silentLogger, startTestNode, tempDir, waitFor } from './helpers.ts';
import { makeEnvelope, withBadSignature } from './pci-helpers.ts';

interface ScoredGossipsub {
  getScore(peerId: string): number;
  getMeshPeers(topic: string): string[];
}
const gossip = (node: BizraNode) => node.host.services.pubsub as unknown as ScoredGossipsub;

describe('PCI between nodes', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('answers over /bizra/pci/1.0.0: accepted with the id, or the reject code', async () => {
    cluster = await startCluster({ peers: 2, api: false }, { logger: silentLogger() });
    const [a, b] = cluster.nodes as [BizraNode, BizraNode];
    const env = makeEnvelope();
    const ok = await submitOverStream(b.host, a.peerId, env.bytes);
    expect(ok.ok).toBe(true);
    if (ok.ok) expect(Buffer.from(ok.id).toString('hex')).toBe(env.idHex);
    expect((await a.pciStore.get(env.idHex))?.source).toBe('stream');
    expect((await a.pciStore.get(env.idHex))?.fromPeer).toBe(b.peerId.toString());
    const bad = await submitOverStream(b.host, a.peerId, withBadSignature(makeEnvelope().bytes));
    expect(bad).toMatchObject({ ok: false, code: 'R002' });
    const replay = await submitOverStream(b.host, a.peerId, env.bytes);
    expect(replay).toMatchObject({ ok: false, code: 'R006' });
  });

  it('answers an oversized stream submission with R005 without reading it', async () => {
    const dir = tempDir();
    const small = await startTestNode(dir.path, (c) => {
      c.pci.maxEnvelopeBytes = 512;
    });
    const other = tempDir();
    const client = await startTestNode(other.path);
    try {
      const answer = await submitOverStream(client.host, small.host.getMultiaddrs()[0] as never, new Uint8Array(2048));
      expect(answer).toMatchObject({ ok: false, code: 'R005' });
      if (!answer.ok) expect(answer.reason).toMatch(/larger than this node's limit of 512 bytes/);
      expect(small.pciStore.count).toBe(0);
    } finally {
      await client.stop();
      await small.stop();
      dir.cleanup();
      other.cleanup();
    }
  });

  it('an envelope submitted to one node of 20 is stored by all 20', async () => {
    cluster = await startCluster({ peers: 20, api: false }, { logger: silentLogger() });
    const nodes = cluster.nodes;
    await waitFor('PCI meshes', () => nodes.every((n) => gossip(n).getMeshPeers(PCI_TOPIC).length >= 1));
    const env = makeEnvelope();
    const entry = nodes[7] as BizraNode;
    const outcome = await entry.pci.submit(env.bytes, 'http', '127.0.0.1');
    expect(outcome).toMatchObject({ ok: true, id: env.idHex });
    const stored = async () => (await Promise.all(nodes.map((n) => n.pciStore.has(env.idHex)))).filter(Boolean).length;
    const deadline = Date.now() + 20_000;
    let count = await stored();
    while (count < 20 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      count = await stored();
    }
    expect(count).toBe(20);
    const viaGossip = await (nodes[3] as BizraNode).pciStore.get(env.idHex);
    expect(viaGossip?.source).toBe('gossip');
  });

  it('a peer flooding invalid envelopes is scored down while honest envelopes still reach everyone', async () => {
    cluster = await startCluster({ peers: 6, api: false, degree: 3 }, { logger: silentLogger() });
    const nodes = cluster.nodes;
    await waitFor('PCI meshes', () => nodes.every((n) => gossip(n).getMeshPeers(PCI_TOPIC).length >= 1));
    const attacker = nodes[5] as BizraNode;
    const honest = nodes.slice(0, 5);
    // Straight onto the topic, past the attacker's own validation: forged signatures.
    const reached = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const sent = await attacker.host.services.pubsub.publish(PCI_TOPIC, withBadSignature(makeEnvelope().bytes));
      for (const peer of sent.recipients) reached.add(peer.toString());
    }
    const neighbours = honest.filter((n) => reached.has(n.peerId.toString()));
    expect(neighbours.length).toBeGreaterThan(0);
    const attackerId = attacker.peerId.toString();
    await waitFor('attacker scored below zero by its neighbours', () =>
      neighbours.every((n) => gossip(n).getScore(attackerId) < 0),
    );
    // Three invalid messages put a peer below gossipsub's graylist threshold (-80).
    for (const n of neighbours) expect(gossip(n).getScore(attackerId)).toBeLessThan(-80);
    for (const n of honest) expect(n.pciStore.count).toBe(0);

    const env = makeEnvelope();
    expect((await (honest[0] as BizraNode).pci.submit(env.bytes, 'http', '127.0.0.1')).ok).toBe(true);
    await waitFor('honest envelope everywhere', () => honest.every((n) => n.pciStore.count === 1), 20_000);
    for (const n of honest) expect(await n.pciStore.has(env.idHex)).toBe(true);
    const rejected = await (neighbours[0] as BizraNode).metrics.pciRejected.get();
    expect(
      rejected.values.find((v) => v.labels.code === 'R002' && v.labels.source === 'gossip')?.value,
    ).toBeGreaterThan(0);
  });
});
