/**
 * One prom-client Registry per node, so several nodes in one process each
 * report their own values. Names follow the README's table: `bizra_` prefix,
 * `_total` counters, `_seconds` durations.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { VERSION } from '../version.ts';

export interface NodeMetricsOptions {
  /** Node.js process metrics (CPU, memory, event loop). A testnet turns them off for all but one node. */
  processMetrics: boolean;
}

/** Live values read at scrape time; bound once the host exists. */
export interface MetricSources {
  peersConnected(): number;
  meshPeers(): Record<string, number>;
  pciStored?(): number;
  membershipCounts?(): Record<string, number>;
  relayLinks?(): number;
  pbftStreams?(): number;
}

export class NodeMetrics {
  private sources: MetricSources | undefined;
  /** PBFT messages received since the counter was last read, by type, then result. */
  readonly #pbftMessageCounts = new Map<string, Map<string, number>>();
  readonly registry = new Registry();
  readonly buildInfo: Gauge<'version' | 'node_version'>;
  readonly nodeInfo: Gauge<'peer_id'>;
  readonly startTime: Gauge;
  readonly boots: Gauge;
  readonly peersConnected: Gauge;
  readonly gossipMeshPeers: Gauge<'topic'>;
  readonly gossipReceived: Counter<'topic'>;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly healthCheck: Gauge<'check'>;
  readonly pciReceived: Counter<'source'>;
  readonly pciAccepted: Counter<'source'>;
  readonly pciRejected: Counter<'code' | 'source'>;
  readonly pciRateLimited: Counter<'source'>;
  readonly pciDuplicates: Counter;
  readonly pciRelayed: Counter;
  readonly pciVerifySeconds: Histogram;
  readonly pciStored: Gauge;
  readonly heartbeatsSent: Counter;
  readonly heartbeatsReceived: Counter<'result'>;
  readonly relayFrames: Counter<'direction'>;
  readonly relayHeldBack: Counter;
  readonly relayLinks: Gauge;
  readonly membershipPeers: Gauge<'state'>;
  readonly membershipTransitions: Counter<'from' | 'to'>;
  readonly membershipDetectionSeconds: Histogram;
  readonly pbftView: Gauge;
  readonly pbftExecutedSeq: Gauge;
  readonly pbftStableCheckpoint: Gauge;
  readonly pbftPipelineWindow: Gauge;
  readonly pbftCommitLatency: Histogram;
  readonly pbftViewChanges: Counter;
  readonly pbftRequestRetransmits: Counter;
  readonly pbftMessages: Counter<'type' | 'result'>;
  readonly pbftEvents: Counter<'kind'>;
  readonly pbftWalWriteSeconds: Histogram;
  readonly pbftValidatorStreams: Gauge;

  constructor(opts: NodeMetricsOptions) {
    const registers = [this.registry];
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
    this.buildInfo = new Gauge({
      name: 'bizra_build_info',
      help: 'Always 1; labels carry the bizra and Node.js versions.',
      labelNames: ['version', 'node_version'],
      registers,
    });
    this.buildInfo.set({ version: VERSION, node_version: process.versions.node }, 1);
    this.nodeInfo = new Gauge({
      name: 'bizra_node_info',
      help: "Always 1; the label carries this node's libp2p peer id.",
      labelNames: ['peer_id'],
      registers,
    });
    this.startTime = new Gauge({
      name: 'bizra_node_start_time_seconds',
      help: 'Unix time at which this node started.',
      registers,
    });
    this.boots = new Gauge({
      name: 'bizra_node_boots',
      help: 'How many times this data dir has been started, including this start.',
      registers,
    });
    const self = this;
    this.peersConnected = new Gauge({
      name: 'bizra_peers_connected',
      help: 'Peers with at least one open libp2p connection.',
      registers,
      collect() {
        this.set(self.sources?.peersConnected() ?? 0);
      },
    });
    this.gossipMeshPeers = new Gauge({
      name: 'bizra_gossip_mesh_peers',
      help: "Peers in this node's gossipsub mesh, by topic.",
      labelNames: ['topic'],
      registers,
      collect() {
        for (const [topic, n] of Object.entries(self.sources?.meshPeers() ?? {})) this.set({ topic }, n);
      },
    });
    this.gossipReceived = new Counter({
      name: 'bizra_gossip_messages_received_total',
      help: 'Gossipsub messages delivered to this node, by topic.',
      labelNames: ['topic'],
      registers,
    });
    this.httpRequests = new Counter({
      name: 'bizra_http_requests_total',
      help: 'HTTP API requests answered, by method, route and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'bizra_http_request_duration_seconds',
      help: 'HTTP API request handling time.',
      labelNames: ['method', 'route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.healthCheck = new Gauge({
      name: 'bizra_health_check_ok',
      help: '1 when the named health check passed at the last /health, 0 when it failed.',
      labelNames: ['check'],
      registers,
    });
    this.pciReceived = new Counter({
      name: 'bizra_pci_received_total',
      help: 'PCI envelopes received, by source (http, stream, gossip), before verification.',
      labelNames: ['source'],
      registers,
    });
    this.pciAccepted = new Counter({
      name: 'bizra_pci_accepted_total',
      help: 'PCI envelopes that passed verification and were stored, by source.',
      labelNames: ['source'],
      registers,
    });
    this.pciRejected = new Counter({
      name: 'bizra_pci_rejected_total',
      help: 'PCI envelopes rejected, by reject code (R001-R007) and source.',
      labelNames: ['code', 'source'],
      registers,
    });
    this.pciRateLimited = new Counter({
      name: 'bizra_pci_rate_limited_total',
      help: 'PCI submissions refused by the per-peer or per-client rate limit, by source.',
      labelNames: ['source'],
      registers,
    });
    this.pciDuplicates = new Counter({
      name: 'bizra_pci_duplicates_total',
      help: 'PCI envelopes received again over gossip after this node had accepted them (Ignored, not relayed).',
      registers,
    });
    this.pciRelayed = new Counter({
      name: 'bizra_pci_relayed_total',
      help: 'PCI envelopes this node published to the federation after accepting them from HTTP or a stream.',
      registers,
    });
    this.pciVerifySeconds = new Histogram({
      name: 'bizra_pci_verify_seconds',
      help: 'Time to verify one PCI envelope (decode, canonical check, digest, signature, thresholds).',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
      registers,
    });
    this.pciStored = new Gauge({
      name: 'bizra_pci_stored',
      help: "PCI envelopes held in this node's store.",
      registers,
      collect() {
        this.set(self.sources?.pciStored?.() ?? 0);
      },
    });
    this.heartbeatsSent = new Counter({
      name: 'bizra_membership_heartbeats_sent_total',
      help: 'Signed heartbeats this node published.',
      registers,
    });
    this.heartbeatsReceived = new Counter({
      name: 'bizra_membership_heartbeats_received_total',
      help: 'Heartbeats received on relay links, by result: accepted, duplicate (a copy of one already accepted), stale (old, replayed or far off our clock), invalid (forged or malformed).',
      labelNames: ['result'],
      registers,
    });
    this.relayFrames = new Counter({
      name: 'bizra_membership_relay_frames_total',
      help: 'HeartbeatBatch frames on relay links, by direction (in, out).',
      labelNames: ['direction'],
      registers,
    });
    this.relayHeldBack = new Counter({
      name: 'bizra_membership_relay_held_back_total',
      help: 'Relay flushes that left a link its pending heartbeats because its stream was full (the peer reads too slowly); they go with a later flush.',
      registers,
    });
    this.relayLinks = new Gauge({
      name: 'bizra_membership_relay_links',
      help: 'Heartbeat relay links this node has open (opened by it or by the peer).',
      registers,
      collect() {
        this.set(self.sources?.relayLinks?.() ?? 0);
      },
    });
    this.membershipPeers = new Gauge({
      name: 'bizra_membership_peers',
      help: "Peers in this node's membership view, by state (JOINING, ACTIVE, SUSPECT, DEAD).",
      labelNames: ['state'],
      registers,
      collect() {
        for (const [state, n] of Object.entries(self.sources?.membershipCounts?.() ?? {})) this.set({ state }, n);
      },
    });
    this.membershipTransitions = new Counter({
      name: 'bizra_membership_transitions_total',
      help: 'Peer state changes seen by this node, by from and to state.',
      labelNames: ['from', 'to'],
      registers,
    });
    this.membershipDetectionSeconds = new Histogram({
      name: 'bizra_membership_detection_seconds',
      help: "Time from a peer's last heartbeat to this node marking it SUSPECT.",
      buckets: [1, 2, 3, 3.5, 4, 4.5, 5, 5.5, 6, 8, 10, 15, 20, 30],
      registers,
    });
    this.pbftView = new Gauge({
      name: 'bizra_pbft_view',
      help: "The PBFT replica's current view (its primary is view mod n).",
      registers,
    });
    this.pbftExecutedSeq = new Gauge({
      name: 'bizra_pbft_executed_seq',
      help: 'The last sequence number this replica executed.',
      registers,
    });
    this.pbftStableCheckpoint = new Gauge({
      name: 'bizra_pbft_stable_checkpoint',
      help: "The replica's stable checkpoint (low watermark).",
      registers,
    });
    this.pbftPipelineWindow = new Gauge({
      name: 'bizra_pbft_pipeline_window',
      help: 'Batches this replica keeps in flight at most as primary: maxBatchesInFlight, halved while batches execute later than a quarter of the view-change timeout, restarted at 1 when it becomes the primary of a new view.',
      registers,
    });
    this.pbftCommitLatency = new Histogram({
      name: 'bizra_pbft_commit_latency_seconds',
      help: 'From a client request accepted by this node (HTTP) to its execution here, logged and fsynced.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.pbftViewChanges = new Counter({
      name: 'bizra_pbft_view_changes_total',
      help: 'View changes this replica started (VIEW-CHANGEs it signed).',
      registers,
    });
    this.pbftRequestRetransmits = new Counter({
      name: 'bizra_pbft_request_retransmits_total',
      help: 'Waiting client requests handed to the replica again, with backoff, and all at once after a NEW-VIEW: the first goes to the primary, later ones are relayed to every replica.',
      registers,
    });
    const pbftMessageCounts = this.#pbftMessageCounts;
    this.pbftMessages = new Counter({
      name: 'bizra_pbft_messages_total',
      help: 'PBFT messages received, by type and result (accepted, or the reject reason).',
      labelNames: ['type', 'result'],
      registers,
      collect() {
        for (const [type, byResult] of pbftMessageCounts) {
          for (const [result, n] of byResult) {
            if (n === 0) continue;
            this.inc({ type, result }, n);
            byResult.set(result, 0);
          }
        }
      },
    });
    this.pbftEvents = new Counter({
      name: 'bizra_pbft_events_total',
      help: 'Replica events by kind: new-view, new-view-incomplete, stable-checkpoint, state-transferred, checkpoint-mismatch, refused-conflicting-vote.',
      labelNames: ['kind'],
      registers,
    });
    this.pbftWalWriteSeconds = new Histogram({
      name: 'bizra_pbft_wal_write_seconds',
      help: 'Time to write and fsync one batch of the PBFT write-ahead log.',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.pbftValidatorStreams = new Gauge({
      name: 'bizra_pbft_validator_streams',
      help: 'Other validators this replica has an open PBFT stream to.',
      registers,
      collect() {
        this.set(self.sources?.pbftStreams?.() ?? 0);
      },
    });
  }

  /**
   * Counts a PBFT message received (bizra_pbft_messages_total{type, result}). Tallied in
   * plain maps and added to the counter when it is read: prom-client's inc() builds a
   * string of the labels per call, and a primary counts one per client request.
   */
  countPbftMessage(type: string, result: string): void {
    let byResult = this.#pbftMessageCounts.get(type);
    if (byResult === undefined) {
      byResult = new Map();
      this.#pbftMessageCounts.set(type, byResult);
    }
    byResult.set(result, (byResult.get(result) ?? 0) + 1);
  }

  /** Connects the scrape-time gauges to a running node; `undefined` unbinds (reads as 0). */
  bindSources(sources: MetricSources | undefined): void {
    this.sources = sources;
  }
}
