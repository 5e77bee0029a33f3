/**
 * Starts N BIZRA nodes in this process, each with its own data dir under one
 * root, its own identity, registry and API port, and connects them into one
 * gossip network. Used by `npm run testnet`, the benchmarks and the tests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import { defaultPbftOptions } from '../consensus/pbft/options.ts';
import { defaultConfig, type NodeConfig } from '../node/config/schema.ts';
import { peerIdOfKey, renderValidatorSet, type SharedParams } from '../node/consensus/validator-set.ts';
import { initDataDir } from '../node/init.ts';
import type { Logger } from '../node/log.ts';
import { BizraNode } from '../node/node.ts';
import { Ed25519Verifier } from '../protocol/crypto/ed25519.ts';
import { PbftVerifier } from '../protocol/pbft/verifier.ts';

export interface ClusterOptions {
  peers: number;
  /** Root for the nodes' data dirs; a fresh temp dir when absent (removed on stop). */
  root?: string;
  /** First API port; node i listens on apiBasePort + i. 0 lets the OS pick each port. */
  apiBasePort?: number;
  /** Serve the HTTP API on every node (default true). */
  api?: boolean;
  /**
   * Heartbeats and failure detection on every node (default off: every node
   * hears every heartbeat, so the cost grows with the square of `peers`; about
   * 0.6 cores at 200 peers, see docs/membership.md).
   */
  membership?: boolean;
  /** How many earlier nodes each node dials (default 6, gossipsub's D). */
  degree?: number;
  /** Seed for the choice of whom to dial, so a topology can be reproduced. */
  seed?: number;
  /**
   * PBFT among the first `validators` nodes: a validator set is written to
   * `<root>/validator-set.json` and every node's consensus.validatorSet points at it.
   * `sharedVerifier` (default true) lets the nodes share one signature cache, as the
   * heartbeat verifier does; a benchmark turns it off so every replica pays its own checks.
   */
  pbft?: { validators: number; chainId?: string; params?: Partial<SharedParams>; sharedVerifier?: boolean };
  /** Changes applied to every node's config. */
  tune?: (config: NodeConfig, index: number) => void;
  onProgress?: (started: number, total: number) => void;
  /**
   * Global index of this cluster's first node, when the testnet is split over several
   * event loops (testnet/worker-cluster.ts): node i here is node firstIndex + i there,
   * in data dir names, API ports and the choice of whom to dial. Default 0. The nodes
   * before it start at the same time elsewhere, so their addresses are not known yet:
   * dials to them wait for `Cluster.dialEarlierSlices`.
   */
  firstIndex?: number;
}

export interface Cluster {
  readonly root: string;
  readonly nodes: BizraNode[];
  /**
   * Starts node i again from its data dir (same key, next incarnation) after it
   * was stopped, dials up to `degree` running nodes, and puts it in its slot.
   */
  restart(index: number): Promise<BizraNode>;
  /** Makes the dials to the nodes before firstIndex, given their listen addresses. */
  dialEarlierSlices(earlier: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(opts: ClusterOptions, modules: { logger: Logger }): Promise<Cluster> {
  const ownRoot = opts.root === undefined;
  const root = opts.root ?? mkdtempSync(join(tmpdir(), 'bizra-testnet-'));
  const nodes: BizraNode[] = [];
  const degree = opts.degree ?? 6;
  const rand = mulberry32(opts.seed ?? 1);
  // Every node of this process checks every heartbeat; one verifier that remembers
  // valid signatures makes that one Ed25519 check per heartbeat per process instead
  // of per node. Sound: a hit compares key, bytes and signature (ed25519.ts).
  const heartbeatVerifier = new Ed25519Verifier({
    keyCacheSize: Math.max(4096, 2 * opts.peers),
    verifiedCacheSize: Math.max(4096, 8 * opts.peers),
  });
  const pbftVerifier =
    opts.pbft && opts.pbft.sharedVerifier !== false ? new PbftVerifier({ validCacheSize: 262_144 }) : undefined;
  const validatorSetPath = opts.pbft ? await writeClusterValidatorSet(root, opts.pbft) : undefined;
  const first = opts.firstIndex ?? 0;
  /** Targets before `first` that each node will dial once their addresses are known. */
  const deferred = new Map<number, number[]>();
  const cluster: Cluster = {
    root,
    nodes,
    async restart(index) {
      const old = nodes[index];
      if (!old) throw new RangeError(`no node ${index}`);
      await old.stop();
      const { identity } = await initDataDir(old.dataDir);
      const node = await BizraNode.create(
        { config: old.config, dataDir: old.dataDir, processMetrics: index === 0, probeGpu: false },
        {
          identity,
          logger: modules.logger.child({ node: index }),
          heartbeatVerifier,
          ...(pbftVerifier ? { pbftVerifier } : {}),
        },
      );
      await node.start();
      nodes[index] = node;
      if (validatorSetPath) await introduceValidators(nodes);
      const others = nodes.filter((n, i) => i !== index && n.running);
      await Promise.allSettled(
        others.slice(0, degree).map(async (peer) => {
          const addr = peer.host.getMultiaddrs()[0];
          if (addr) await node.host.dial(addr);
        }),
      );
      return node;
    },
    async dialEarlierSlices(earlier) {
      await Promise.all(
        [...deferred].map(([local, targets]) =>
          dialWithRetries(nodes[local] as BizraNode, first + local, () =>
            dialTargets(nodes[local] as BizraNode, nodes, targets, first, earlier),
          ),
        ),
      );
      deferred.clear();
    },
    async stop() {
      // Stop in parallel: each node's stop is independent and mostly waiting on sockets.
      await Promise.allSettled(nodes.map((n) => n.stop()));
      if (ownRoot) rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    for (let local = 0; local < opts.peers; local++) {
      const i = first + local;
      const config = testnetConfig(i, opts);
      if (validatorSetPath) config.consensus.validatorSet = validatorSetPath;
      // Created one at a time: @libp2p/prometheus-metrics keeps a module-level
      // name cache that each construction resets.
      const dataDir = join(root, `node-${String(i).padStart(3, '0')}`);
      // A reused root keeps each node's key, so its peer id survives a testnet restart.
      const { identity } = await initDataDir(dataDir);
      const node = await BizraNode.create(
        { config, dataDir, processMetrics: i === 0, probeGpu: false },
        {
          identity,
          logger: modules.logger.child({ node: i }),
          heartbeatVerifier,
          ...(pbftVerifier ? { pbftVerifier } : {}),
        },
      );
      nodes.push(node);
      await node.start();
      const targets = dialTargetsOf(i, degree, rand);
      const now = targets.filter((t) => t >= first);
      if (now.length < targets.length)
        deferred.set(
          local,
          targets.filter((t) => t < first),
        );
      // A node that has only deferred targets is judged when they are dialled.
      if (now.length > 0)
        await dialWithRetries(node, i, () => dialTargets(node, nodes, now, first, []), {
          tolerate: now.length < targets.length,
        });
      opts.onProgress?.(local + 1, opts.peers);
    }
    if (validatorSetPath) await introduceValidators(nodes);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/**
 * Creates the first `validators` data dirs (their keys) and writes the validator set
 * for them. Addresses are left out: the nodes listen on port 0, so introduceValidators
 * tells each node where the validators are once they listen.
 */
async function writeClusterValidatorSet(root: string, pbft: NonNullable<ClusterOptions['pbft']>): Promise<string> {
  const validators = [];
  for (let i = 0; i < pbft.validators; i++) {
    const { identity } = await initDataDir(join(root, `node-${String(i).padStart(3, '0')}`));
    validators.push({ publicKey: identity.publicKey, peerId: peerIdOfKey(identity.publicKey), addresses: [] });
  }
  const path = join(root, 'validator-set.json');
  writeFileSync(
    path,
    renderValidatorSet({
      chainId: pbft.chainId ?? 'bizra-testnet',
      params: {
        checkpointInterval: pbft.params?.checkpointInterval ?? defaultPbftOptions.checkpointInterval,
        logWindow: pbft.params?.logWindow ?? defaultPbftOptions.logWindow,
        batchSize: pbft.params?.batchSize ?? defaultPbftOptions.batchSize,
      },
      validators,
    }),
  );
  return path;
}

/** Puts every running validator's listen addresses in every running node's peer store, where PBFT dials look. */
export async function introduceValidators(nodes: readonly BizraNode[]): Promise<void> {
  const running = nodes.filter((n) => n.running);
  const validators = running.filter((n) => n.consensus?.isValidator);
  await Promise.all(
    running.flatMap((node) =>
      validators
        .filter((v) => v !== node)
        .map((v) => node.host.peerStore.merge(v.peerId, { multiaddrs: v.host.getMultiaddrs() }).catch(() => undefined)),
    ),
  );
}

function testnetConfig(i: number, opts: ClusterOptions): NodeConfig {
  const config = defaultConfig();
  config.profile = 'testnet';
  config.p2p.listen = ['/ip4/127.0.0.1/tcp/0'];
  config.api.enabled = opts.api ?? true;
  config.api.host = '127.0.0.1';
  config.api.port = opts.apiBasePort ? opts.apiBasePort + i : 0;
  config.membership.enabled = opts.membership ?? false;
  opts.tune?.(config, i);
  return config;
}

/** The up to `degree` distinct earlier nodes node i dials, chosen by the seeded PRNG. */
function dialTargetsOf(i: number, degree: number, rand: () => number): number[] {
  const targets = new Set<number>();
  const want = Math.min(degree, i);
  while (targets.size < want) targets.add(Math.floor(rand() * i));
  return [...targets];
}

/**
 * Runs `dial` (which reports the first failure if no dial succeeded) up to three times.
 * A failed dial leaves the node with fewer links, not a failed testnet; if it has no
 * connection at all, that is an error worth stopping for, after a few tries (a busy
 * event loop can drop a connection while it is being opened). `tolerate`: other dials
 * are still to come, so failing here is not yet an error.
 */
async function dialWithRetries(
  node: BizraNode,
  i: number,
  dial: () => Promise<unknown>,
  opts: { tolerate?: boolean } = {},
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const failure = await dial();
    if (failure === null || node.host.getConnections().length > 0) return;
    if (attempt === 3) {
      if (opts.tolerate) return;
      throw new Error(`node ${i} could not dial any earlier node: ${failure}`);
    }
    await new Promise((r) => setTimeout(r, 500 * attempt));
  }
}

/**
 * Node `node` dials each target: those before `first` by their addresses in `earlier`
 * (they run in another event loop), the rest as nodes[t - first]. Null if at least one
 * dial succeeded, else the first failure.
 */
async function dialTargets(
  node: BizraNode,
  nodes: BizraNode[],
  targets: number[],
  first: number,
  earlier: readonly string[],
): Promise<unknown> {
  const dials = await Promise.allSettled(
    targets.map(async (t) => {
      if (t < first) {
        const there = earlier[t];
        if (there) await node.host.dial(multiaddr(there));
        return;
      }
      const addr = (nodes[t - first] as BizraNode).host.getMultiaddrs()[0];
      if (addr) await node.host.dial(addr);
    }),
  );
  const failed = dials.filter((d) => d.status === 'rejected');
  return failed.length === dials.length && failed.length > 0 ? (failed[0] as PromiseRejectedResult).reason : null;
}

/** A small seeded PRNG (Mulberry32): reproducible topologies without Math.random. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
