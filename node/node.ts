/**
 * One BIZRA node: data dir lock, LevelDB store, libp2p host, metrics and HTTP
 * API, composed in the order they must start and stopped in reverse. Nothing
 * here is module-level state, so a testnet runs hundreds of these in one
 * process.
 */
import { mkdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import type { Peer, PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { PbftApp } from '../consensus/pbft/app.ts';
import { Ed25519Signer, type Ed25519Verifier } from '../protocol/crypto/ed25519.ts';
import type { PbftVerifier } from '../protocol/pbft/verifier.ts';
import { FEDERATION_TOPIC, PCI_TOPIC } from '../protocol/topics.ts';
import { type ApiServer, createApiServer } from './api/server.ts';
import type { NodeConfig } from './config/schema.ts';
import { ConsensusService } from './consensus/consensus-service.ts';
import { loadValidatorSet, type ValidatorSetFile } from './consensus/validator-set.ts';
import { NodeError } from './errors.ts';
import { EventLoopLagMonitor } from './event-loop-lag.ts';
import { type GpuInfo, probeGpus } from './gpu.ts';
import { type HealthReport, runHealthChecks } from './health.ts';
import type { NodeIdentity } from './identity.ts';
import { acquireLock, type DataDirLock } from './lock.ts';
import type { Logger } from './log.ts';
import { MembershipService } from './membership/membership-service.ts';
import { NodeMetrics } from './metrics/node-metrics.ts';
import { createHost, type Host } from './p2p/host.ts';
import { layoutOf } from './paths.ts';
import { PciService } from './pci/pci-service.ts';
import { PciStore } from './pci/pci-store.ts';
import { handlePciStreams } from './pci/pci-stream.ts';
import { type BootRecord, Store } from './store/store.ts';
import { VERSION } from './version.ts';

export interface NodeOptions {
  config: NodeConfig;
  dataDir: string;
  /** Node.js process metrics in this node's registry (one per process is enough in a testnet). */
  processMetrics?: boolean;
  /** Ask nvidia-smi for GPUs at start (off in testnets: one answer serves the whole process). */
  probeGpu?: boolean;
  /** Time after start during which a node with bootstrap peers but none connected still counts as healthy. */
  peerGraceMs?: number;
  /** Event-loop lag above which /health fails. */
  maxEventLoopLagMs?: number;
}

export interface NodeModules {
  identity: NodeIdentity;
  logger: Logger;
  now?: () => Date;
  /** Checks heartbeat signatures; testnets share one with a verified-signature cache among their nodes. */
  heartbeatVerifier?: Ed25519Verifier;
  /** Makes the PBFT application state machine in its initial state (default: the key-value app). */
  pbftApp?: () => PbftApp;
  /** Checks PBFT signatures; an in-process testnet may share one among its nodes (sound: see protocol/pbft/verifier.ts). */
  pbftVerifier?: PbftVerifier;
}

export interface PeerView {
  peerId: string;
  addresses: string[];
  direction: 'inbound' | 'outbound';
  openedAt: string;
  connections: number;
}

export interface MemberView {
  peerId: string;
  state: string;
  phi: number;
  lastSeen: string;
  incarnation: number;
  sequence: number;
  connected: boolean;
}

export interface NodeInfo {
  peerId: string;
  publicKey: string;
  version: string;
  profile: string;
  listenAddresses: string[];
  startedAt: string;
  uptimeSeconds: number;
  boots: number;
  dataDir: string;
  gpus: GpuInfo[];
}

export { NodeError };

/** Peer-store metadata key: when we last opened a connection to the peer (ms since epoch, decimal text). */
const LAST_CONNECTED = 'bizra/last-connected';

type State = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

export class BizraNode {
  readonly config: NodeConfig;
  readonly dataDir: string;
  readonly identity: NodeIdentity;
  readonly metrics: NodeMetrics;
  readonly host: Host;
  readonly store: Store;
  readonly pci: PciService;
  readonly pciStore: PciStore;
  readonly membership: MembershipService;
  /** PBFT, when `consensus.validatorSet` names a validator set. */
  readonly consensus: ConsensusService | undefined;
  readonly api: ApiServer | undefined;
  private readonly log: Logger;
  private readonly lock: DataDirLock;
  private readonly now: () => Date;
  private readonly lag = new EventLoopLagMonitor();
  private readonly opts: Required<Omit<NodeOptions, 'config' | 'dataDir'>>;
  private state: State = 'created';
  private startedAt: Date | undefined;
  private boot: BootRecord | undefined;
  private gpus: GpuInfo[] = [];
  /** Aborts background work (reconnect dials) when the node stops. */
  private readonly lifetime = new AbortController();

  private constructor(
    opts: NodeOptions,
    modules: NodeModules,
    parts: {
      lock: DataDirLock;
      store: Store;
      pciStore: PciStore;
      host: Host;
      metrics: NodeMetrics;
      validatorSet?: ValidatorSetFile | undefined;
    },
  ) {
    this.config = opts.config;
    this.dataDir = opts.dataDir;
    this.identity = modules.identity;
    this.now = modules.now ?? (() => new Date());
    this.log = modules.logger;
    this.lock = parts.lock;
    this.store = parts.store;
    this.host = parts.host;
    this.metrics = parts.metrics;
    this.pciStore = parts.pciStore;
    this.pci = new PciService(
      {
        policy: {
          ihsanThreshold: opts.config.pci.ihsanThreshold,
          snrThreshold: opts.config.pci.snrThreshold,
          maxFutureSkewMs: opts.config.pci.maxFutureSkewMs,
          maxTtlSeconds: opts.config.pci.maxTtlSeconds,
          maxEnvelopeBytes: opts.config.pci.maxEnvelopeBytes,
        },
        rateLimitPerSecond: opts.config.pci.rateLimitPerSecond,
        rateLimitBurst: opts.config.pci.rateLimitBurst,
        seenCacheSize: opts.config.pci.seenCacheSize,
      },
      {
        host: this.host,
        store: this.pciStore,
        metrics: this.metrics,
        logger: this.log.child({ module: 'pci' }),
        now: () => this.now().getTime(),
      },
    );
    this.membership = new MembershipService(
      {
        heartbeatIntervalMs: opts.config.membership.heartbeatIntervalMs,
        maxClockSkewMs: opts.config.membership.maxClockSkewMs,
        view: {
          activeAfterHeartbeats: opts.config.membership.activeAfterHeartbeats,
          deadAfterMs: opts.config.membership.deadAfterMs,
          phi: {
            threshold: opts.config.membership.phiThreshold,
            acceptableHeartbeatPauseMs: opts.config.membership.acceptablePauseMs,
            minStdDeviationMs: opts.config.membership.minStdDeviationMs,
          },
        },
        relay: {
          delayMs: opts.config.membership.relayDelayMs,
          degree: opts.config.membership.relayDegree,
          maxLinks: 3 * opts.config.membership.relayDegree,
        },
      },
      {
        host: this.host,
        metrics: this.metrics,
        logger: this.log.child({ module: 'membership' }),
        signer: Ed25519Signer.fromSeed(this.identity.seed),
        ...(modules.heartbeatVerifier ? { verifier: modules.heartbeatVerifier } : {}),
        incarnation: () => this.boot?.bootCount ?? 1,
        now: () => this.now().getTime(),
        liveness: () => ({
          consensusHeight: this.consensus?.replica?.lastExecuted ?? 0,
          loadPermille: Math.min(0xffff_ffff, Math.round(((loadavg()[0] ?? 0) / availableParallelism()) * 1000)),
          gpu: this.gpus.length > 0,
        }),
      },
    );
    this.consensus = parts.validatorSet
      ? new ConsensusService(
          {
            requestTimeoutMs: opts.config.consensus.requestTimeoutMs,
            replica: {
              batchDelayMs: opts.config.consensus.batchDelayMs,
              viewChangeTimeoutMs: opts.config.consensus.viewChangeTimeoutMs,
              maxBatchesInFlight: opts.config.consensus.maxBatchesInFlight,
              statusIntervalMs: opts.config.consensus.statusIntervalMs,
            },
            verifyWorkers: opts.config.consensus.verifyWorkers,
          },
          {
            host: this.host,
            store: this.store,
            logger: this.log.child({ module: 'pbft' }),
            metrics: this.metrics,
            signer: Ed25519Signer.fromSeed(this.identity.seed),
            validatorSet: parts.validatorSet,
            ...(modules.pbftApp ? { app: modules.pbftApp } : {}),
            ...(modules.pbftVerifier ? { verifier: modules.pbftVerifier } : {}),
          },
        )
      : undefined;
    this.opts = {
      processMetrics: opts.processMetrics ?? true,
      probeGpu: opts.probeGpu ?? true,
      peerGraceMs: opts.peerGraceMs ?? 30_000,
      maxEventLoopLagMs: opts.maxEventLoopLagMs ?? 1_000,
    };
    this.api = opts.config.api.enabled
      ? createApiServer(
          { host: opts.config.api.host, port: opts.config.api.port, bodyLimitBytes: opts.config.api.bodyLimitBytes },
          { node: this, metrics: this.metrics, logger: this.log.child({ module: 'api' }) },
        )
      : undefined;
  }

  /**
   * Takes the data dir lock, opens the store and builds the libp2p host. On any
   * failure everything already taken is given back, so a refused start leaves
   * nothing behind.
   */
  static async create(opts: NodeOptions, modules: NodeModules): Promise<BizraNode> {
    const layout = layoutOf(opts.dataDir);
    // A bad validator-set file is refused before anything is taken (ConfigError: exit 2).
    const setPath = opts.config.consensus.validatorSet;
    const validatorSet = setPath === '' ? undefined : loadValidatorSet(resolvePath(opts.dataDir, setPath));
    mkdirSync(layout.root, { recursive: true, mode: 0o700 });
    const lock = acquireLock(layout.lockFile);
    let store: Store | undefined;
    try {
      store = await Store.open(layout.dbDir);
      const pciStore = await PciStore.open(store);
      const metrics = new NodeMetrics({ processMetrics: opts.processMetrics ?? true });
      const host = await createHost(
        { p2p: opts.config.p2p, profile: opts.config.profile },
        { privateKey: modules.identity.libp2pKey, registry: metrics.registry, datastore: store.libp2pDatastore() },
      );
      const logger = modules.logger.child({ peer: shortPeerId(modules.identity.peerId) });
      return new BizraNode(opts, { ...modules, logger }, { lock, store, pciStore, host, metrics, validatorSet });
    } catch (err) {
      await store?.close().catch(() => undefined);
      lock.release();
      throw err;
    }
  }

  get peerId(): PeerId {
    return this.identity.peerId;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** The API's bound address once started (port 0 resolves to the real port). */
  get apiAddress(): { host: string; port: number } | undefined {
    return this.api?.address();
  }

  async start(): Promise<void> {
    if (this.state !== 'created') throw new NodeError('BAD_STATE', `cannot start a node that is ${this.state}`);
    this.state = 'starting';
    // stop() may be called while start() awaits (a signal during start-up);
    // each step checks, so a stopped node is never brought back to running.
    const step = async <T>(work: () => Promise<T> | T): Promise<T> => {
      if (this.state !== 'starting') throw new NodeError('STOPPED', 'the node was stopped while it was starting');
      return work();
    };
    try {
      this.startedAt = this.now();
      this.boot = await step(() => this.store.recordBoot(this.startedAt as Date));
      this.lag.start();
      await step(() => this.host.start());
      await step(() => handlePciStreams(this.host, this.pci, this.log.child({ module: 'pci' })));
      await step(async () => {
        this.wirePubsub();
        this.wireMetrics();
        this.rememberPeers();
        this.pci.start();
        if (this.config.membership.enabled) await this.membership.start();
      });
      // After libp2p (its protocol handler) and before the API (which submits to it).
      if (this.consensus) await step(() => this.consensus?.start());
      if (this.opts.probeGpu) this.gpus = await step(() => probeGpus());
      if (this.api) await step(() => this.api?.listen());
      await step(() => undefined);
      this.state = 'running';
    } catch (err) {
      if (this.state !== 'starting') {
        // stop() was called meanwhile; whatever failed, failed because of it.
        throw err instanceof NodeError && err.code === 'STOPPED'
          ? err
          : new NodeError('STOPPED', 'the node was stopped while it was starting');
      }
      this.log.error({ err }, 'start failed; releasing what was taken');
      await this.stop();
      throw err;
    }
    void this.reconnectKnownPeers();
    if (this.api && !isLoopback(this.config.api.host)) {
      this.log.warn(
        { host: this.config.api.host },
        'the HTTP API is reachable beyond this machine and has no authentication; put it behind a proxy or firewall',
      );
    }
    this.log.info(
      {
        peerId: this.peerId.toString(),
        listen: this.host.getMultiaddrs().map(String),
        api: this.apiAddress ? `http://${formatHost(this.apiAddress.host)}:${this.apiAddress.port}` : 'disabled',
        boot: this.boot?.bootCount,
      },
      'node started',
    );
  }

  /**
   * Stops in reverse order of start: API first (no new requests), then libp2p,
   * then the store is flushed and closed, then the lock is released.
   * Safe to call more than once.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    const errors: unknown[] = [];
    const step = async (what: string, fn: () => Promise<void> | void): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
        this.log.error({ err }, `error while stopping ${what}`);
      }
    };
    this.lifetime.abort();
    this.membership.silence();
    // Consensus first: it answers the HTTP requests waiting for a commit (503) and lets
    // the WAL write in flight finish, so the API can close and the store after it.
    await step('consensus', () => this.consensus?.stop());
    await step('api', () => this.api?.close());
    await step('pci', () => this.pci.stop());
    await step('membership', () => this.membership.stop());
    await step('libp2p', () => this.host.stop());
    this.lag.stop();
    await step('store', () => this.store.close());
    await step('lock', () => this.lock.release());
    this.state = 'stopped';
    this.log.info('node stopped');
    if (errors.length > 0) throw new AggregateError(errors, 'node stopped with errors');
  }

  info(): NodeInfo {
    const startedAt = this.startedAt ?? this.now();
    return {
      peerId: this.peerId.toString(),
      publicKey: Buffer.from(this.identity.publicKey).toString('hex'),
      version: VERSION,
      profile: this.config.profile,
      listenAddresses: this.host.getMultiaddrs().map(String),
      startedAt: startedAt.toISOString(),
      uptimeSeconds: Math.max(0, (this.now().getTime() - startedAt.getTime()) / 1000),
      boots: this.boot?.bootCount ?? 0,
      dataDir: this.dataDir,
      gpus: this.gpus,
    };
  }

  peers(): PeerView[] {
    const byPeer = new Map<string, PeerView>();
    for (const conn of this.host.getConnections()) {
      const id = conn.remotePeer.toString();
      const seen = byPeer.get(id);
      if (seen) {
        seen.connections++;
        seen.addresses.push(conn.remoteAddr.toString());
        continue;
      }
      byPeer.set(id, {
        peerId: id,
        addresses: [conn.remoteAddr.toString()],
        direction: conn.direction,
        openedAt: new Date(conn.timeline.open).toISOString(),
        connections: 1,
      });
    }
    return [...byPeer.values()].sort((a, b) => a.peerId.localeCompare(b.peerId));
  }

  /**
   * The membership view: every peer this node has heard a heartbeat from, with
   * its state, suspicion level and when it was last heard (wall-clock time).
   */
  members(): MemberView[] {
    const mono = this.membership.monotonic();
    const wall = this.now().getTime();
    const connected = new Set(this.peers().map((p) => p.peerId));
    return this.membership.members().map((m) => ({
      peerId: m.peerId,
      state: m.state,
      phi: Math.round(m.phi * 1000) / 1000,
      lastSeen: new Date(wall - (mono - m.lastHeartbeatMs)).toISOString(),
      incarnation: m.incarnation,
      sequence: m.sequence,
      connected: connected.has(m.peerId),
    }));
  }

  /** Dials a peer by multiaddr (which must end in /p2p/<id>). */
  async connect(address: string, signal?: AbortSignal): Promise<PeerView> {
    let ma: ReturnType<typeof multiaddr>;
    try {
      ma = multiaddr(address);
    } catch (err) {
      throw new NodeError('BAD_MULTIADDR', `not a multiaddr: ${(err as Error).message}`);
    }
    const target = ma.getComponents().find((c) => c.name === 'p2p')?.value;
    if (target === undefined) throw new NodeError('BAD_MULTIADDR', 'the multiaddr must end in /p2p/<peer id>');
    if (target === this.peerId.toString()) throw new NodeError('SELF_DIAL', 'cannot connect to this node itself');
    try {
      await this.host.dial(ma, signal ? { signal } : {});
    } catch (err) {
      throw new NodeError('DIAL_FAILED', `could not connect to ${address}: ${(err as Error).message}`);
    }
    const view = this.peers().find((p) => p.peerId === target);
    if (!view) throw new NodeError('DIAL_FAILED', `connected to ${address} but the connection closed at once`);
    return view;
  }

  /** Closes every connection to a peer; false when there were none. */
  async disconnect(peerId: string): Promise<boolean> {
    let id: PeerId;
    try {
      id = peerIdFromString(peerId);
    } catch (err) {
      throw new NodeError('BAD_PEER_ID', `not a peer id: ${(err as Error).message}`);
    }
    if (this.host.getConnections(id).length === 0) return false;
    await this.host.hangUp(id);
    return true;
  }

  /** Publishes on a gossipsub topic this node is subscribed to. Returns how many peers it was sent to. */
  async publish(topic: string, data: Uint8Array): Promise<number> {
    const result = await this.host.services.pubsub.publish(topic, data);
    return result.recipients.length;
  }

  /** Peers in this node's gossipsub mesh for a topic. */
  meshPeers(topic: string = FEDERATION_TOPIC): number {
    const pubsub = this.host.services.pubsub as unknown as { getMeshPeers?: (t: string) => string[] };
    return pubsub.getMeshPeers?.(topic).length ?? 0;
  }

  async health(): Promise<HealthReport> {
    const report = await runHealthChecks({
      store: async () => {
        await this.store.ping();
        return { ok: true, detail: 'database answers' };
      },
      p2p: () => {
        const addrs = this.host.getMultiaddrs().length;
        const ok = this.host.status === 'started' && addrs > 0;
        return { ok, detail: ok ? `listening on ${addrs} address(es)` : `libp2p is ${this.host.status}` };
      },
      peers: () => {
        const connected = this.peers().length;
        const uptime = this.now().getTime() - (this.startedAt?.getTime() ?? 0);
        const needPeers = this.config.p2p.bootstrap.length > 0 && uptime > this.opts.peerGraceMs;
        const ok = connected > 0 || !needPeers;
        return {
          ok,
          detail: ok ? `${connected} peer(s) connected` : 'no peers connected and none of the bootstrap peers answered',
        };
      },
      eventLoop: () => {
        const lag = this.lag.lagMs;
        const ok = lag <= this.opts.maxEventLoopLagMs;
        return { ok, detail: `lag ${lag.toFixed(1)} ms (limit ${this.opts.maxEventLoopLagMs} ms)` };
      },
    });
    for (const [name, result] of Object.entries(report.checks))
      this.metrics.healthCheck.set({ check: name }, result.ok ? 1 : 0);
    return report;
  }

  /** Subscribes to the federation topic and counts what arrives. */
  private wirePubsub(): void {
    const pubsub = this.host.services.pubsub;
    pubsub.subscribe(FEDERATION_TOPIC);
    pubsub.addEventListener('message', (evt) => {
      this.metrics.gossipReceived.inc({ topic: evt.detail.topic });
    });
  }

  /** Stamps each peer we connect to in the (persisted) peer store, for reconnecting after a restart. */
  private rememberPeers(): void {
    this.host.addEventListener('connection:open', (evt) => {
      const stamp = new TextEncoder().encode(String(this.now().getTime()));
      this.host.peerStore
        .merge(evt.detail.remotePeer, { metadata: { [LAST_CONNECTED]: stamp } })
        .catch((err: unknown) => this.log.debug({ err }, 'could not record peer'));
    });
  }

  /** Dials the peers most recently connected in earlier runs; runs in the background after start. */
  private async reconnectKnownPeers(): Promise<void> {
    const limit = this.config.p2p.reconnectPeers;
    if (limit === 0) return;
    const lastConnected = (peer: Peer) => Number(new TextDecoder().decode(peer.metadata.get(LAST_CONNECTED)));
    try {
      const known = (await this.host.peerStore.all())
        .filter((p) => p.addresses.length > 0 && p.metadata.has(LAST_CONNECTED) && !p.id.equals(this.peerId))
        .sort((a, b) => lastConnected(b) - lastConnected(a))
        .slice(0, limit);
      if (known.length === 0) return;
      const signal = AbortSignal.any([this.lifetime.signal, AbortSignal.timeout(this.config.p2p.dialTimeoutMs)]);
      const results = await Promise.allSettled(known.map((p) => this.host.dial(p.id, { signal })));
      const ok = results.filter((r) => r.status === 'fulfilled').length;
      this.log.info({ tried: known.length, connected: ok }, 'reconnected to peers from earlier runs');
    } catch (err) {
      if (!this.lifetime.signal.aborted) this.log.warn({ err }, 'reconnecting to known peers failed');
    }
  }

  /** Gauges read at scrape time from the live host. */
  private wireMetrics(): void {
    const m = this.metrics;
    m.nodeInfo.set({ peer_id: this.peerId.toString() }, 1);
    m.startTime.set((this.startedAt?.getTime() ?? 0) / 1000);
    m.boots.set(this.boot?.bootCount ?? 0);
    m.bindSources({
      peersConnected: () => (this.running ? this.peers().length : 0),
      meshPeers: () => ({
        [FEDERATION_TOPIC]: this.running ? this.meshPeers(FEDERATION_TOPIC) : 0,
        [PCI_TOPIC]: this.running ? this.meshPeers(PCI_TOPIC) : 0,
      }),
      pciStored: () => this.pciStore.count,
      membershipCounts: () => this.membership.view.counts(),
      relayLinks: () => (this.running ? this.membership.relay.linkedPeers().length : 0),
      pbftStreams: () => this.consensus?.streams() ?? 0,
    });
  }
}

export function shortPeerId(peerId: PeerId): string {
  const s = peerId.toString();
  return s.slice(-8);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
