/**
 * Membership over real libp2p nodes in one process: signed heartbeats every
 * second carried by the heartbeat relay, the phi-accrual detector with Akka's defaults.
 */

import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import type { Multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import type { Transition } from '../../consensus/membership/index.ts';
import { Ed25519Signer } from '../../protocol/crypto/ed25519.ts';
import { signHeartbeat } from '../../protocol/membership/heartbeat.ts';
import { encodeHeartbeatBatch } from '../../protocol/membership/heartbeat-batch.ts';
import { HEARTBEAT_PROTOCOL } from '../../protocol/topics.ts';
import { type Cluster, startCluster } from '../../testnet/cluster.ts';
import { lengthPrefixed } from '../membership/frame-decoder.ts';
import type { BizraNode } from '../node.ts';
import { silentLogger, waitFor } from './helpers.ts';

const noDht = (c: { p2p: { dht: boolean } }) => {
  c.p2p.dht = false;
};

function allActive(nodes: BizraNode[]): boolean {
  return nodes.every((n) => n.membership.view.counts().ACTIVE === nodes.length - 1);
}

/** Every transition each node reports from now on. */
function recordTransitions(nodes: BizraNode[]): Array<Transition & { observer: string }> {
  const seen: Array<Transition & { observer: string }> = [];
  for (const n of nodes) n.membership.onTransition((t) => seen.push({ ...t, observer: n.peerId.toString() }));
  return seen;
}

describe('membership', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('50 nodes: 3 stopped nodes are SUSPECT on every survivor within 6 s of their last heartbeat, and nobody else ever is', async () => {
    cluster = await startCluster({ peers: 50, api: false, membership: true, tune: noDht }, { logger: silentLogger() });
    const nodes = cluster.nodes;
    await waitFor('all ACTIVE everywhere', () => allActive(nodes), 40_000);
    const transitions = recordTransitions(nodes);
    const victims = [nodes[3], nodes[21], nodes[44]] as BizraNode[];
    const victimIds = new Set(victims.map((v) => v.peerId.toString()));
    const survivors = nodes.filter((n) => !victims.includes(n));
    // When each victim last sent a heartbeat, on the detector's clock (performance.now():
    // every node of this process shares it). A victim's final heartbeat may die with it
    // in transit, so "since its last heartbeat" is counted from the last one it sent.
    const lastSent = new Map<string, number>();
    for (const v of victims) v.membership.onSent(() => lastSent.set(v.peerId.toString(), performance.now()));
    await new Promise((r) => setTimeout(r, 1500));
    await Promise.all(victims.map((v) => v.stop()));
    const suspected = () =>
      survivors.every((s) => [...victimIds].every((id) => s.membership.view.get(id)?.state === 'SUSPECT'));
    await waitFor('victims SUSPECT on every survivor', suspected, 20_000);

    const suspicions = transitions.filter((t) => t.to === 'SUSPECT');
    expect(suspicions.length).toBe(survivors.length * victims.length);
    for (const t of suspicions) {
      expect(victimIds.has(t.peerId)).toBe(true);
      const sinceLastSent = t.atMs - (lastSent.get(t.peerId) ?? Number.NaN);
      expect(sinceLastSent).toBeLessThanOrEqual(6000);
      expect(sinceLastSent).toBeGreaterThanOrEqual(3000);
    }
    for (const s of survivors) {
      const counts = s.membership.view.counts();
      expect(counts.SUSPECT).toBe(3);
      expect(counts.ACTIVE).toBe(survivors.length - 1);
    }
  });

  it('heartbeats held back for 2 s (less than the acceptable pause) convict nobody', async () => {
    cluster = await startCluster({ peers: 4, api: false, membership: true, tune: noDht }, { logger: silentLogger() });
    const nodes = cluster.nodes;
    await waitFor('all ACTIVE', () => allActive(nodes), 20_000);
    const transitions = recordTransitions(nodes);
    const held = nodes[2] as BizraNode;
    const self = held.peerId.toString();
    const relay = held.membership.relay;
    const forward = relay.forward.bind(relay);
    const until = Date.now() + 2000;
    // Its own heartbeats go nowhere for 2 s; it still relays everyone else's.
    relay.forward = (origin, incarnation, sequence, bytes, from) => {
      if (origin === self && Date.now() < until) return;
      forward(origin, incarnation, sequence, bytes, from);
    };
    await new Promise((r) => setTimeout(r, 6000));
    expect(transitions.filter((t) => t.to === 'SUSPECT' || t.to === 'DEAD')).toEqual([]);
    expect(allActive(nodes)).toBe(true);
  });

  it('a stopped node that restarts comes back ACTIVE everywhere, with a higher incarnation', async () => {
    cluster = await startCluster(
      {
        peers: 5,
        api: false,
        membership: true,
        tune: (c) => {
          c.p2p.dht = false;
          c.membership.deadAfterMs = 2000;
        },
      },
      { logger: silentLogger() },
    );
    const nodes = cluster.nodes;
    await waitFor('all ACTIVE', () => allActive(nodes), 20_000);
    const id = (nodes[1] as BizraNode).peerId.toString();
    const before = (nodes[0] as BizraNode).membership.view.get(id)?.incarnation ?? 0;
    await (nodes[1] as BizraNode).stop();
    const others = nodes.filter((_, i) => i !== 1);
    await waitFor('DEAD everywhere', () => others.every((n) => n.membership.view.get(id)?.state === 'DEAD'), 20_000);
    await cluster.restart(1);
    await waitFor('ACTIVE again everywhere', () => allActive(cluster?.nodes ?? []), 20_000);
    for (const n of others) expect(n.membership.view.get(id)?.incarnation).toBeGreaterThan(before);
  });

  it('a relay link that sends a forged heartbeat is hung up and changes nothing; a valid one from a new origin reaches everyone', async () => {
    // Nodes 0-2 run membership; node 3 does not, and plays a relay we cannot trust.
    cluster = await startCluster(
      {
        peers: 4,
        api: false,
        membership: true,
        tune: (c, i) => {
          c.p2p.dht = false;
          c.membership.enabled = i !== 3;
        },
      },
      { logger: silentLogger() },
    );
    const [a, b, c, attacker] = cluster.nodes as [BizraNode, BizraNode, BizraNode, BizraNode];
    await waitFor('members ACTIVE', () => allActive([a, b, c]), 20_000);
    await attacker.host.dial(b.host.getMultiaddrs()[0] as Multiaddr);

    const stranger = Ed25519Signer.fromSeed(new Uint8Array(32).fill(77));
    const strangerId = peerIdFromPublicKey(publicKeyFromRaw(stranger.publicKey)).toString();
    const heartbeat = (sequence: number) =>
      signHeartbeat(
        { incarnation: 1, sequence, timestampMs: Date.now(), consensusHeight: 0, loadPermille: 0, gpu: false },
        stranger,
      );

    // A valid heartbeat of an origin nobody is connected to, handed to b: b accepts it
    // and relays it, so c hears of the stranger too.
    const link = await attacker.host.dialProtocol(b.peerId, HEARTBEAT_PROTOCOL);
    link.send(lengthPrefixed(encodeHeartbeatBatch([heartbeat(1)])));
    await waitFor('stranger known to b and c', () =>
      [b, c].every((n) => n.membership.view.get(strangerId)?.state === 'JOINING'),
    );

    // A forged one (last signature byte flipped, higher sequence): the link is hung up,
    // the view keeps the stranger's last real heartbeat, and the attacker may not relink.
    const forged = heartbeat(2);
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1;
    link.send(lengthPrefixed(encodeHeartbeatBatch([forged])));
    await waitFor('link hung up', () => link.status !== 'open');
    expect(b.membership.view.get(strangerId)?.sequence).toBe(1);
    const invalid = (await b.metrics.heartbeatsReceived.get()).values.find((v) => v.labels.result === 'invalid');
    expect(invalid?.value).toBe(1);
    const again = await attacker.host.dialProtocol(b.peerId, HEARTBEAT_PROTOCOL);
    await waitFor('relink refused', () => again.status !== 'open');
  });
});
