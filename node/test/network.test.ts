import type { Message } from '@libp2p/gossipsub';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';
import { FEDERATION_TOPIC } from '../../protocol/topics.ts';
import { type Cluster, startCluster } from '../../testnet/cluster.ts';
import type { BizraNode } from '../node.ts';
import { silentLogger, waitFor } from './helpers.ts';

/** Publishes from node 0 and waits until every other node has received that exact payload. */
async function publishToAll(nodes: BizraNode[], payload: string): Promise<Set<number>> {
  const received = new Set<number>();
  const listeners = nodes.map((node, i) => {
    const listener = (evt: CustomEvent<Message>) => {
      if (evt.detail.topic === FEDERATION_TOPIC && new TextDecoder().decode(evt.detail.data) === payload)
        received.add(i);
    };
    node.host.services.pubsub.addEventListener('message', listener);
    return listener;
  });
  try {
    await nodes[0]?.publish(FEDERATION_TOPIC, new TextEncoder().encode(payload));
    await waitFor(`delivery to ${nodes.length - 1} nodes`, () => received.size === nodes.length - 1, 20_000);
  } finally {
    for (const [i, node] of nodes.entries()) {
      const listener = listeners[i];
      if (listener) node.host.services.pubsub.removeEventListener('message', listener);
    }
  }
  return received;
}

describe('nodes in one process', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('2 nodes connect and deliver a gossip message', async () => {
    cluster = await startCluster({ peers: 2 }, { logger: silentLogger() });
    const [a, b] = cluster.nodes as [BizraNode, BizraNode];
    await waitFor('connection', () => a.peers().length === 1 && b.peers().length === 1);
    expect(a.peers()[0]?.peerId).toBe(b.peerId.toString());
    await waitFor('gossip mesh', () => a.meshPeers() === 1 && b.meshPeers() === 1);
    const received = await publishToAll(cluster.nodes, 'hello from node 0');
    expect([...received]).toEqual([1]);
    expect(received.has(0)).toBe(false);
  });

  it('20 nodes connect and deliver a gossip message to all', async () => {
    cluster = await startCluster({ peers: 20, api: false }, { logger: silentLogger() });
    const nodes = cluster.nodes;
    await waitFor('every node in a mesh', () => nodes.every((n) => n.meshPeers() >= 1));
    for (const n of nodes) expect(n.peers().length).toBeGreaterThanOrEqual(1);
    const received = await publishToAll(nodes, 'to all twenty');
    expect(received.size).toBe(19);
  });

  it('each node has its own metrics registry with its own values', async () => {
    cluster = await startCluster({ peers: 2 }, { logger: silentLogger() });
    const [a, b] = cluster.nodes as [BizraNode, BizraNode];
    await waitFor('connection', () => a.peers().length === 1);
    // Different traffic on each: three requests to a, none to b.
    const urlOf = (n: BizraNode) => `http://127.0.0.1:${n.apiAddress?.port}`;
    for (let i = 0; i < 3; i++) await fetch(`${urlOf(a)}/v1/node`);
    const scrape = async (n: BizraNode) => parsePrometheusTextFormat(await (await fetch(`${urlOf(n)}/metrics`)).text());
    const [ma, mb] = [await scrape(a), await scrape(b)];
    const label = (m: typeof ma, name: string) => m.find((f) => f.name === name)?.metrics[0]?.labels?.peer_id;
    expect(label(ma, 'bizra_node_info')).toBe(a.peerId.toString());
    expect(label(mb, 'bizra_node_info')).toBe(b.peerId.toString());
    const nodeRequests = (m: typeof ma) =>
      m.find((f) => f.name === 'bizra_http_requests_total')?.metrics.find((s) => s.labels?.route === '/v1/node')?.value;
    expect(nodeRequests(ma)).toBe('3');
    expect(nodeRequests(mb)).toBeUndefined();
    // libp2p's own metrics are per node too: b dialled a, so a's one connection is inbound and b's outbound.
    const connections = (m: typeof ma, direction: string) =>
      m
        .find((f) => f.name === 'libp2p_connection_manager_connections')
        ?.metrics.find((s) => Object.values(s.labels ?? {}).includes(direction))?.value;
    expect([connections(ma, 'inbound'), connections(ma, 'outbound')]).toEqual(['1', '0']);
    expect([connections(mb, 'inbound'), connections(mb, 'outbound')]).toEqual(['0', '1']);
  });
});
