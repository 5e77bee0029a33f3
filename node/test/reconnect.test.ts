import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeConfig } from '../config/schema.ts';
import { generateIdentity, type NodeIdentity } from '../identity.ts';
import { BizraNode } from '../node.ts';
import { silentLogger, startTestNode, tempDir, testConfig, waitFor } from './helpers.ts';

// The default profile keeps loopback peers out of the DHT (it strips private
// addresses), so these reconnections come from bizra's own reconnect, not
// from kad-dht repopulating its routing table.
const defaultProfile = (reconnectPeers: number) => (c: NodeConfig) => {
  c.profile = 'default';
  c.p2p.reconnectPeers = reconnectPeers;
};

describe('peer store persistence', () => {
  const stops: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
  });

  async function startWith(dataDir: string, identity: NodeIdentity, reconnectPeers: number): Promise<BizraNode> {
    const node = await BizraNode.create(
      { config: testConfig(defaultProfile(reconnectPeers)), dataDir, probeGpu: false },
      { identity, logger: silentLogger() },
    );
    await node.start();
    stops.push(() => node.stop());
    return node;
  }

  it('a restarted node dials the peers it knew, without bootstrap peers', async () => {
    const dir = tempDir();
    stops.push(dir.cleanup);
    const a = await startTestNode(join(dir.path, 'a'), defaultProfile(0));
    stops.push(() => a.stop());
    const identity = await generateIdentity();
    const b = await startWith(join(dir.path, 'b'), identity, 20);
    await b.connect(String(a.host.getMultiaddrs()[0]));
    // Give the peer store a moment to write the stamp and identify's addresses.
    await waitFor('peer recorded', () => b.peers().length === 1);
    await new Promise((r) => setTimeout(r, 300));
    await b.stop();
    await waitFor('a sees b leave', () => a.peers().length === 0);

    const again = await startWith(join(dir.path, 'b'), identity, 20);
    await waitFor('reconnect to a', () => again.peers().some((p) => p.peerId === a.peerId.toString()), 15_000);
    expect(again.info().boots).toBe(2);
  });

  it('reconnectPeers = 0 turns it off', async () => {
    const dir = tempDir();
    stops.push(dir.cleanup);
    const a = await startTestNode(join(dir.path, 'a'), defaultProfile(0));
    stops.push(() => a.stop());
    const identity = await generateIdentity();
    const b = await startWith(join(dir.path, 'b'), identity, 0);
    await b.connect(String(a.host.getMultiaddrs()[0]));
    await new Promise((r) => setTimeout(r, 300));
    await b.stop();
    await waitFor('a sees b leave', () => a.peers().length === 0);
    const again = await startWith(join(dir.path, 'b'), identity, 0);
    await new Promise((r) => setTimeout(r, 1500));
    expect(again.peers()).toEqual([]);
  });
});
