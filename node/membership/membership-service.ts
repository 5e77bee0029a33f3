/**
 * Liveness of the federation: this node signs a heartbeat every interval and hands
 * it to the heartbeat relay (heartbeat-relay.ts), which carries it to every node in
 * batched frames over a few long-lived links. Heartbeats arriving on those links are
 * checked here (canonical bytes, origin's signature, clock skew, newer than what we
 * hold) and fed to the pure membership view (phi-accrual detector and the
 * JOINING/ACTIVE/SUSPECT/DEAD state machine in consensus/membership); each accepted
 * one goes on to our other links. A tick timer advances the view; when the tick
 * itself fires late, the process was paused, and the pause is handed to the view so
 * that nobody is convicted for our own stall (as Cassandra does).
 */

import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import {
  MembershipView,
  type MembershipViewOptions,
  type PeerStatus,
  type Transition,
} from '../../consensus/membership/index.ts';
import { type Ed25519Signer, Ed25519Verifier } from '../../protocol/crypto/ed25519.ts';
import {
  explainHeartbeat,
  heartbeatSignatureValid,
  readSignedHeartbeat,
  signHeartbeat,
} from '../../protocol/membership/heartbeat.ts';
import type { Logger } from '../log.ts';
import type { NodeMetrics } from '../metrics/node-metrics.ts';
import type { Host } from '../p2p/host.ts';
import { HeartbeatRelay, type HeartbeatRelayOptions } from './heartbeat-relay.ts';

export interface MembershipServiceOptions {
  heartbeatIntervalMs: number;
  /** How far a heartbeat's own timestamp may be from our clock before it is ignored as stale. */
  maxClockSkewMs: number;
  view: Partial<MembershipViewOptions>;
  relay: Partial<HeartbeatRelayOptions>;
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
  /**
   * Checks heartbeat signatures. One per node by default; an in-process testnet hands
   * all its nodes one with a verified-signature cache, so each heartbeat is verified
   * once per process instead of once per node (see Ed25519VerifierOptions).
   */
  verifier?: Ed25519Verifier;
}

/** What this node knows of an origin: its peer id, and the newest heartbeat accepted from it. */
interface Origin {
  peerId: string;
  incarnation: number;
  sequence: number;
}

export type TransitionListener = (t: Transition) => void;

/** How often the view is advanced: often enough that detection is not delayed by the tick. */
const TICK_MS = 100;

export class MembershipService {
  readonly view: MembershipView;
  readonly relay: HeartbeatRelay;
  private readonly opts: MembershipServiceOptions;
  private readonly m: MembershipServiceModules;
  private readonly keys: Ed25519Verifier;
  private readonly listeners = new Set<TransitionListener>();
  private readonly sentListeners = new Set<(sequence: number) => void>();
  /** By the origin's raw public key as a latin1 string: one Map lookup per relayed copy. */
  private readonly origins = new Map<string, Origin>();
  private readonly selfKey: string;
  private readonly selfId: string;
  private sequence = 0;
  private sendTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  /** An extra tick at the moment a peer becomes due, between two regular ticks. */
  private dueTimer: NodeJS.Timeout | undefined;
  private nextTickAt = 0;

  constructor(opts: MembershipServiceOptions, modules: MembershipServiceModules) {
    this.opts = opts;
    this.m = modules;
    this.keys = modules.verifier ?? new Ed25519Verifier();
    this.selfId = modules.host.peerId.toString();
    this.selfKey = latin1(modules.signer.publicKey);
    this.view = new MembershipView(
      { ...opts.view, phi: { firstHeartbeatEstimateMs: opts.heartbeatIntervalMs, ...opts.view.phi } },
      this.selfId,
    );
    this.relay = new HeartbeatRelay(opts.relay, {
      host: modules.host,
      logger: modules.logger,
      metrics: modules.metrics,
      onFrame: (entries, from) => this.receive(entries, from),
    });
  }

  async start(): Promise<void> {
    await this.relay.start();
    this.scheduleSend();
    this.nextTickAt = performance.now() + TICK_MS;
    this.tickTimer = setInterval(() => this.tick(), TICK_MS);
    this.tickTimer.unref();
    this.send();
  }

  /**
   * Stops heartbeating and judging peers at once, without waiting for anything: a
   * node that has begun to stop no longer vouches for itself (BizraNode.stop calls this
   * first, so its peers' detection clocks start when the stop does).
   */
  silence(): void {
    clearTimeout(this.sendTimer);
    clearInterval(this.tickTimer);
    clearTimeout(this.dueTimer);
    this.sendTimer = undefined;
    this.tickTimer = undefined;
    this.dueTimer = undefined;
  }

  async stop(): Promise<void> {
    this.silence();
    await this.relay.stop();
  }

  /** Called with every state change of every peer (metrics, logs, testnet reports). */
  onTransition(listener: TransitionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called with the sequence number of every heartbeat this node signs and hands to the relay. */
  onSent(listener: (sequence: number) => void): () => void {
    this.sentListeners.add(listener);
    return () => this.sentListeners.delete(listener);
  }

  members(): PeerStatus[] {
    return this.view.all(this.monotonic());
  }

  /** Milliseconds on the detector's clock; `lastHeartbeatMs` of a member is on this clock. */
  monotonic(): number {
    return this.m.monotonic?.() ?? performance.now();
  }

  /**
   * Heartbeats go out at whole multiples of the interval on the wall clock, so every
   * node of a federation with synchronised clocks sends at the same moment and the
   * relay carries each round as one wave (heartbeat-relay.ts). Re-aimed every time,
   * so timer drift does not accumulate into irregular intervals.
   */
  private scheduleSend(): void {
    const interval = this.opts.heartbeatIntervalMs;
    const wait = interval - (this.m.now() % interval);
    this.sendTimer = setTimeout(() => {
      this.send();
      this.scheduleSend();
    }, wait);
    this.sendTimer.unref();
  }

  private send(): void {
    const liveness = this.m.liveness();
    const incarnation = this.m.incarnation();
    const sequence = ++this.sequence;
    const bytes = signHeartbeat(
      {
        incarnation,
        sequence,
        timestampMs: this.m.now(),
        consensusHeight: liveness.consensusHeight,
        loadPermille: liveness.loadPermille,
        gpu: liveness.gpu,
      },
      this.m.signer,
    );
    // Our own heartbeat leaves at once, with whatever else is queued, rather than
    // waiting up to a flush interval: it is the first hop of every path.
    this.relay.forward(this.selfId, incarnation, sequence, bytes);
    this.relay.flush();
    this.m.metrics.heartbeatsSent.inc();
    for (const listener of this.sentListeners) listener(sequence);
  }

  /**
   * One frame's heartbeats from relay link `from`. Copies of what we already hold are
   * dropped on (incarnation, sequence) before any signature is checked; the rest must
   * be canonical, signed by their origin and near our clock. Returns why the link
   * must be hung up (it relayed bytes no honest relay would), or null.
   */
  private receive(entries: Uint8Array[], from: string): string | null {
    const counts = { accepted: 0, duplicate: 0, stale: 0, invalid: 0 };
    const problem = this.receiveEntries(entries, from, counts);
    // Counted per frame, not per entry: a labelled prom-client inc costs about a microsecond.
    const metrics = this.m.metrics.heartbeatsReceived;
    for (const [result, n] of Object.entries(counts)) if (n > 0) metrics.inc({ result }, n);
    return problem;
  }

  private receiveEntries(
    entries: Uint8Array[],
    from: string,
    counts: Record<'accepted' | 'duplicate' | 'stale' | 'invalid', number>,
  ): string | null {
    const mono = this.monotonic();
    const wallNow = this.m.now();
    for (const bytes of entries) {
      const parsed = readSignedHeartbeat(bytes);
      if (parsed === null) {
        counts.invalid++;
        return explainHeartbeat(bytes);
      }
      const hb = parsed.heartbeat;
      const key = latin1(hb.senderPublicKey);
      if (key === this.selfKey) continue;
      const known = this.origins.get(key);
      if (known !== undefined && !newerThan(hb, known)) {
        counts.duplicate++;
        this.relay.heard(from, known.peerId, hb.incarnation, hb.sequence);
        continue;
      }
      if (!heartbeatSignatureValid(parsed, this.keys)) {
        counts.invalid++;
        return 'a heartbeat signature does not verify';
      }
      if (Math.abs(hb.timestampMs - wallNow) > this.opts.maxClockSkewMs) {
        counts.stale++;
        continue;
      }
      const peerId = known?.peerId ?? peerIdFromPublicKey(publicKeyFromRaw(hb.senderPublicKey)).toString();
      const outcome = this.view.onHeartbeat(peerId, { incarnation: hb.incarnation, sequence: hb.sequence }, mono);
      if (outcome.transition) this.record(outcome.transition);
      // Remembered even when the view refuses it (a DEAD peer's same incarnation), so
      // its other copies are dropped as duplicates instead of verified again.
      if (known === undefined) this.origins.set(key, { peerId, incarnation: hb.incarnation, sequence: hb.sequence });
      else {
        known.incarnation = hb.incarnation;
        known.sequence = hb.sequence;
      }
      if (!outcome.accepted) {
        counts.stale++;
        continue;
      }
      counts.accepted++;
      this.relay.heard(from, peerId, hb.incarnation, hb.sequence);
      this.relay.forward(peerId, hb.incarnation, hb.sequence, bytes, from);
    }
    return null;
  }

  private tick(): void {
    const t = performance.now();
    // How late this tick is: time the process could not run (GC, swap, a suspended VM).
    const localPauseMs = Math.max(0, t - this.nextTickAt);
    this.nextTickAt = t + TICK_MS;
    const now = this.monotonic();
    for (const transition of this.view.tick(now, { localPauseMs })) this.record(transition);
    // A peer due before the next tick gets a tick of its own at that moment, so the
    // tick period adds nothing to detection latency (it would add up to TICK_MS).
    const due = this.view.nextDueMs;
    if (due > now && due < now + TICK_MS && this.dueTimer === undefined) {
      this.dueTimer = setTimeout(
        () => {
          this.dueTimer = undefined;
          for (const transition of this.view.tick(this.monotonic())) this.record(transition);
        },
        Math.ceil(due - now),
      );
      this.dueTimer.unref();
    }
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

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}

function newerThan(hb: { incarnation: number; sequence: number }, known: Origin): boolean {
  return hb.incarnation > known.incarnation || (hb.incarnation === known.incarnation && hb.sequence > known.sequence);
}
