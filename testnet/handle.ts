/**
 * A testnet as the scenarios and benchmarks see it, wherever its nodes run: in this
 * event loop (`localHandle`, over testnet/cluster.ts) or split over worker threads
 * (testnet/worker-cluster.ts), one event loop each. One event loop runs out at about
 * 150 nodes with heartbeats on (every node hears every heartbeat: N^2 a second), so
 * bigger membership testnets spread over the machine's cores.
 *
 * Everything is asynchronous, as a worker answers by message. Times are absolute
 * milliseconds (`absoluteNow`), comparable across threads.
 */
import type { Transition } from '../consensus/membership/index.ts';
import type { BizraNode } from '../node/node.ts';
import type { Cluster } from './cluster.ts';
import { waitForMeshes } from './mesh.ts';
import { type NodeRow, nodeRow } from './report.ts';

/** A state change seen by node `observer`, at `at` (absoluteNow). */
export interface ObservedTransition extends Transition {
  observer: number;
  at: number;
}

/** Relay frames sent, flushes held back by full links and heartbeats received, summed over nodes. */
export interface RelayTraffic {
  framesOut: number;
  heldBack: number;
  accepted: number;
  duplicate: number;
}

export interface ClusterHandle {
  readonly root: string;
  readonly size: number;
  peerId(index: number): string;
  isRunning(index: number): boolean;
  /** How many peers each node sees ACTIVE; null for a stopped node. */
  activeCounts(): Promise<Array<number | null>>;
  /** The state each node gives `peerId` (undefined: never heard of it; null: the node is stopped). */
  statesOf(peerId: string): Promise<Array<string | undefined | null>>;
  /** SUSPECT and DEAD transitions, as they happen. */
  onSuspicion(listener: (t: ObservedTransition) => void): () => void;
  waitForMeshes(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<'formed' | 'timeout' | 'aborted'>;
  rows(): Promise<NodeRow[]>;
  relayTraffic(): Promise<RelayTraffic>;
  /** Busy share of each event loop the nodes run in, since the previous call (0 to 1). */
  eventLoopUtilization(): number[];
  /** Stops node `index`; resolves to the moment (absoluteNow) it stopped heartbeating, read in its own thread. */
  stop(index: number): Promise<number>;
  restart(index: number): Promise<void>;
  stopAll(): Promise<void>;
}

export function absoluteNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Relay counters of some nodes, read from their own registries. */
export async function relayTrafficOf(nodes: readonly BizraNode[]): Promise<RelayTraffic> {
  const total: RelayTraffic = { framesOut: 0, heldBack: 0, accepted: 0, duplicate: 0 };
  for (const n of nodes) {
    if (!n.running) continue;
    for (const v of (await n.metrics.relayFrames.get()).values)
      if (v.labels.direction === 'out') total.framesOut += v.value;
    for (const v of (await n.metrics.relayHeldBack.get()).values) total.heldBack += v.value;
    for (const v of (await n.metrics.heartbeatsReceived.get()).values) {
      if (v.labels.result === 'accepted') total.accepted += v.value;
      if (v.labels.result === 'duplicate') total.duplicate += v.value;
    }
  }
  return total;
}

/**
 * Calls `listener` with every SUSPECT or DEAD transition of every node of `cluster`,
 * including nodes restarted later (checked on each restart through `watch`).
 */
export class SuspicionFeed {
  private readonly listeners = new Set<(t: ObservedTransition) => void>();
  private readonly watched = new WeakSet<BizraNode>();

  watch(node: BizraNode, index: number): void {
    if (this.watched.has(node)) return;
    this.watched.add(node);
    node.membership.onTransition((t) => {
      if (t.to !== 'SUSPECT' && t.to !== 'DEAD') return;
      const observed = { ...t, observer: index, at: absoluteNow() };
      for (const l of this.listeners) l(observed);
    });
  }

  subscribe(listener: (t: ObservedTransition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The handle of a cluster whose nodes run in this event loop. */
export function localHandle(cluster: Cluster): ClusterHandle {
  const feed = new SuspicionFeed();
  for (const [i, n] of cluster.nodes.entries()) feed.watch(n, i);
  let elu = performance.eventLoopUtilization();
  return {
    root: cluster.root,
    get size() {
      return cluster.nodes.length;
    },
    peerId: (i) => (cluster.nodes[i] as BizraNode).peerId.toString(),
    isRunning: (i) => cluster.nodes[i]?.running === true,
    activeCounts: async () => cluster.nodes.map((n) => (n.running ? n.membership.view.counts().ACTIVE : null)),
    statesOf: async (peerId) => cluster.nodes.map((n) => (n.running ? n.membership.view.get(peerId)?.state : null)),
    onSuspicion: (listener) => feed.subscribe(listener),
    waitForMeshes: (opts) => waitForMeshes(cluster.nodes, opts),
    rows: async () => cluster.nodes.map((n, i) => nodeRow(n, i)),
    relayTraffic: () => relayTrafficOf(cluster.nodes),
    eventLoopUtilization: () => {
      const now = performance.eventLoopUtilization();
      const busy = performance.eventLoopUtilization(now, elu).utilization;
      elu = now;
      return [busy];
    },
    stop: async (i) => {
      const at = absoluteNow();
      await (cluster.nodes[i] as BizraNode).stop();
      return at;
    },
    restart: async (i) => {
      feed.watch(await cluster.restart(i), i);
    },
    stopAll: () => cluster.stop(),
  };
}
