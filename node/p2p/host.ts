/**
 * Builds the libp2p host: TCP, Noise, Yamux, identify, ping, gossipsub and
 * kad-dht, with the connection limits from the config and, for the testnet
 * profile, the settings that let hundreds of nodes share 127.0.0.1.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { bootstrap } from '@libp2p/bootstrap';
import { gossipsub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { Ed25519PrivateKey } from '@libp2p/interface';
import { kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht';
import { ping } from '@libp2p/ping';
import { prometheusMetrics } from '@libp2p/prometheus-metrics';
import { tcp } from '@libp2p/tcp';
import type { Datastore } from 'interface-datastore';
import { createLibp2p } from 'libp2p';
import type { Registry } from 'prom-client';
import { DHT_PROTOCOL } from '../../protocol/topics.ts';
import type { NodeConfig, Profile } from '../config/schema.ts';
import { VERSION } from '../version.ts';
import { gossipScoreParams } from './gossip-score.ts';

export interface HostOptions {
  p2p: NodeConfig['p2p'];
  profile: Profile;
}

export interface HostModules {
  privateKey: Ed25519PrivateKey;
  /** Where libp2p keeps its peer store; in memory when absent. */
  datastore?: Datastore;
  /** The node's own registry; libp2p's metrics go there, not to the global one. */
  registry?: Registry;
}

/** Loopback allow-list the testnet profile adds (the default limit is 5 inbound connections/s per IP). */
const TESTNET_ALLOW = ['/ip4/127.0.0.1', '/ip6/::1'];

export async function createHost(opts: HostOptions, modules: HostModules) {
  const testnet = opts.profile === 'testnet';

  return createLibp2p({
    privateKey: modules.privateKey,
    ...(modules.datastore ? { datastore: modules.datastore } : {}),
    nodeInfo: { name: 'bizra', version: VERSION, userAgent: `bizra/${VERSION}` },
    start: false,
    addresses: { listen: opts.p2p.listen, announce: opts.p2p.announce },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: opts.p2p.bootstrap.length > 0 ? [bootstrap({ list: opts.p2p.bootstrap })] : [],
    connectionManager: {
      maxConnections: opts.p2p.maxConnections,
      maxIncomingPendingConnections: opts.p2p.maxIncomingPendingConnections,
      inboundConnectionThreshold: opts.p2p.inboundConnectionThreshold,
      dialTimeout: opts.p2p.dialTimeoutMs,
      allow: [...opts.p2p.allow, ...(testnet ? TESTNET_ALLOW : [])],
    },
    // Metrics go to this node's registry. The plugin keeps a module-level name
    // cache that it clears on construction, so nodes in one process must be
    // created one after another (Node.create is awaited in sequence).
    ...(modules.registry
      ? {
          metrics: prometheusMetrics({
            registry: modules.registry,
            collectDefaultMetrics: false,
          }),
        }
      : {}),
    // libp2p's connection monitor pings every connection every 10 s and aborts
    // it when a ping fails or takes over 5 s. With hundreds of nodes on one
    // event loop a gossip burst delays pings past that, so it tore down healthy
    // connections (300 nodes: 2,648 of 3,558 connection ends in ~10 s, leaving
    // 17 nodes isolated) and its pings alone cost ~40 % of a core. Loopback
    // peers do not silently vanish, so the testnet runs without it.
    ...(testnet ? { connectionMonitor: { enabled: false } } : {}),
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        // Our own liveness and payloads are signed at the application level;
        // gossipsub's own signature still guards the envelope of each message.
        allowPublishToZeroTopicPeers: true,
        // Drop duplicates before the Ed25519 check: without a fast id every copy
        // a node receives from its mesh is signature-verified before the seen
        // cache is consulted (21 % of CPU at 300 nodes). gossipsub adds an id to
        // this cache only after the message passed validation, so a forged copy
        // cannot shadow the real one.
        fastMsgIdFn,
        scoreParams: gossipScoreParams(testnet),
      }),
      ...(opts.p2p.dht ? { dht: dhtService(testnet) } : {}),
    },
  });
}

/**
 * kad-dht on a protocol id of our own. The testnet profile runs it in server
 * mode and keeps private addresses, or loopback peers would never enter each
 * other's routing tables.
 */
function dhtService(testnet: boolean) {
  return kadDHT({
    protocol: DHT_PROTOCOL,
    ...(testnet
      ? { clientMode: false, peerInfoMapper: passthroughMapper }
      : { peerInfoMapper: removePrivateAddressesMapper }),
  });
}

export type Host = Awaited<ReturnType<typeof createHost>>;

/** gossipsub's StrictSign message id (from + seqno) as a string, cheap enough to compute for every copy. */
function fastMsgIdFn(msg: { from?: Uint8Array; seqno?: Uint8Array }): string {
  return `${base64(msg.from)}/${base64(msg.seqno)}`;
}

function base64(bytes: Uint8Array | undefined): string {
  return bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') : '';
}
