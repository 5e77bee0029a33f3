/**
 * Liveness of the federation: this node publishes a signed heartbeat every
 * interval on `bizra/heartbeat/1`, verifies everyone else's in the topic
 * validator, and feeds them to the pure membership view (phi-accrual detector
 * and JOINING/ACTIVE/SUSPECT/DEAD state machine in consensus/membership). A
 * tick timer advances the view; when the tick itself fires late, the process
 * was paused, and the pause is handed to the view so that nobody is convicted
 * for our own stall (as Cassandra does).
 */

import type { Message } from '@libp2p/gossipsub';
import { TopicValidatorResult } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import {
  MembershipView,
  type MembershipViewOptions,
  type PeerStatus,
  type Transition,
} from '../../consensus/membership/index.ts';
import { type Ed25519Signer, Ed25519Verifier } from '../../protocol/crypto/ed25519.ts';
import { signHeartbeat, verifyHeartbeat } from '../../protocol/membership/heartbeat.ts';
import { HEARTBEAT_TOPIC } from '../../protocol/topics.ts';
import type { Logger } from '../log.ts';
import type { NodeMetrics } from '../metrics/node-metrics.ts';
import type { Host } from '../p2p/host.ts';

export interface MembershipServiceOptions {
  heartbeatIntervalMs: number;
  /** How far a heartbeat's own timestamp may be from our clock before it is ignored as stale. */
  maxClockSkewMs: number;
  view: Partial<MembershipViewOptions>;
}

export interface NodeLiveness {
  consensusHeight: number;
  loadPermille: number;
  gpu: boolean;
}

export interface MembershipServiceModules {
  host: Host;
  metrics: NodeMetrics;
  logger: Logger;
  signer: Ed25519Signer;
  /** This start's incarnation (the boot count): a restart outranks the old heartbeats. */
  incarnation: () => number;
  /** Wall-clock Unix ms: the timestamp heartbeats carry, and the skew check. */
  now: () => number;
  /**
   * Monotonic ms for the failure detector: a wall-clock step (NTP) must not look
   * like silence. Defaults to performance.now().
   */
  monotonic?: () => number;
  liveness: () => NodeLiveness;
}

export type TransitionListener = (t: Transition) => void;

/** How often the view is advanced: often enough that detection is not delayed by the tick. */
const TICK_MS = 100;

export class MembershipService {
  readonly view: MembershipView;
  private readonly opts: MembershipServiceOptions;
  private readonly m: MembershipServiceModules;
  private readonly keys = new Ed25519Verifier();
  private readonly listeners = new Set<TransitionListener>();
  private sequence = 0;
  private sendTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private nextTickAt = 0;

  constructor(opts: MembershipServiceOptions, modules: MembershipServiceModules) {
    this.opts = opts;
    this.m = modules;
    this.view = new MembershipView(
      { ...opts.view, phi: { firstHeartbeatEstimateMs: opts.heartbeatIntervalMs, ...opts.view.phi } },
      modules.host.peerId.toString(),
    );
  }

  start(): void {
    const pubsub = this.m.host.services.pubsub;
    pubsub.topicValidators.set(HEARTBEAT_TOPIC, (peer, message) => this.validate(peer, message));
    pubsub.subscribe(HEARTBEAT_TOPIC);
    this.sendTimer = setInterval(() => void this.send(), this.opts.heartbeatIntervalMs);
    this.sendTimer.unref();
    this.nextTickAt = performance.now() + TICK_MS;
    this.tickTimer = setInterval(() => this.tick(), TICK_MS);
    this.tickTimer.unref();
    void this.send();
  }

  stop(): void {
    clearInterval(this.sendTimer);
    clearInterval(this.tickTimer);
    this.sendTimer = undefined;
    this.tickTimer = undefined;
    this.m.host.services.pubsub.topicValidators.delete(HEARTBEAT_TOPIC);
  }

  /** Called with every state change of every peer (metrics, logs, testnet reports). */
  onTransition(listener: TransitionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  members(): PeerStatus[] {
    return this.view.all(this.monotonic());
  }

  /** Milliseconds on the detector's clock; `lastHeartbeatMs` of a member is on this clock. */
  monotonic(): number {
    return this.m.monotonic?.() ?? performance.now();
  }

  private async send(): Promise<void> {
    const liveness = this.m.liveness();
    const bytes = signHeartbeat(
      {
        incarnation: this.m.incarnation(),
        sequence: ++this.sequence,
        timestampMs: this.m.now(),
        consensusHeight: liveness.consensusHeight,
        loadPermille: liveness.loadPermille,
        gpu: liveness.gpu,
      },
      this.m.signer,
    );
    try {
      await this.m.host.services.pubsub.publish(HEARTBEAT_TOPIC, bytes);
      this.m.metrics.heartbeatsSent.inc();
    } catch (err) {
      this.m.logger.debug({ err }, 'could not publish a heartbeat');
    }
  }

  /** Reject what is forged or malformed (it costs the relay score); Ignore what is stale. */
  private validate(_relay: PeerId, message: Message): TopicValidatorResult {
    const metrics = this.m.metrics;
    const result = verifyHeartbeat(message.data, this.keys);
    if (!result.ok) {
      metrics.heartbeatsReceived.inc({ result: 'invalid' });
      return TopicValidatorResult.Reject;
    }
    const hb = result.heartbeat;
    // The heartbeat must be signed by the node gossipsub says published it.
    const from = message.type === 'signed' ? message.from : undefined;
    const fromKey = from?.publicKey?.raw;
    if (from === undefined || fromKey === undefined || Buffer.compare(fromKey, hb.senderPublicKey) !== 0) {
      metrics.heartbeatsReceived.inc({ result: 'invalid' });
      return TopicValidatorResult.Reject;
    }
    const now = this.m.now();
    if (Math.abs(hb.timestampMs - now) > this.opts.maxClockSkewMs) {
      metrics.heartbeatsReceived.inc({ result: 'stale' });
      return TopicValidatorResult.Ignore;
    }
    const outcome = this.view.onHeartbeat(
      from.toString(),
      { incarnation: hb.incarnation, sequence: hb.sequence },
      this.monotonic(),
    );
    if (outcome.transition) this.record(outcome.transition);
    if (!outcome.accepted) {
      metrics.heartbeatsReceived.inc({ result: 'stale' });
      return TopicValidatorResult.Ignore;
    }
    metrics.heartbeatsReceived.inc({ result: 'accepted' });
    return TopicValidatorResult.Accept;
  }

  private tick(): void {
    const t = performance.now();
    // How late this tick is: time the process could not run (GC, swap, a suspended VM).
    const localPauseMs = Math.max(0, t - this.nextTickAt);
    this.nextTickAt = t + TICK_MS;
    for (const transition of this.view.tick(this.monotonic(), { localPauseMs })) this.record(transition);
  }

  private record(t: Transition): void {
    const metrics = this.m.metrics;
    metrics.membershipTransitions.inc({ from: t.from, to: t.to });
    if (t.to === 'SUSPECT' && t.from !== 'DEAD') {
      metrics.membershipDetectionSeconds.observe(Math.max(0, t.sinceLastHeartbeatMs) / 1000);
    }
    const level = t.to === 'SUSPECT' || t.to === 'DEAD' ? 'warn' : 'info';
    this.m.logger[level](
      { remotePeer: t.peerId, from: t.from, to: t.to, phi: t.phi, sinceLastHeartbeatMs: t.sinceLastHeartbeatMs },
      'peer state changed',
    );
    for (const listener of this.listeners) listener(t);
  }
}
