/**
 * The daemon's side of PCI envelopes: one verifier (and so one replay cache)
 * for every way an envelope arrives, a rate limit per submitter, storage of
 * what is accepted, and the gossip relay. Submissions from HTTP and the
 * libp2p stream protocol are verified, stored, then published; envelopes from
 * gossip are verified in the topic validator and stored before gossipsub
 * forwards them, so a node never relays what it has not kept.
 */
import { TopicValidatorResult } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import {
  EnvelopeVerifier,
  isRejectCode,
  PCI_TOPIC,
  type PciPolicy,
  pciGossipVerdict,
  REJECT_CODES,
  ReplayCache,
  type VerifyResult,
} from '../../protocol/pci/index.ts';
import type { Logger } from '../log.ts';
import type { NodeMetrics } from '../metrics/node-metrics.ts';
import type { Host } from '../p2p/host.ts';
import { RateLimiter } from '../rate-limiter.ts';
import type { PciSource, PciStore } from './pci-store.ts';

export interface PciServiceOptions {
  policy: Partial<PciPolicy>;
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  seenCacheSize: number;
}

export interface PciServiceModules {
  host: Host;
  store: PciStore;
  metrics: NodeMetrics;
  logger: Logger;
  /** Unix milliseconds; injected so tests can move time. */
  now: () => number;
}

export type SubmitOutcome =
  | { ok: true; id: string; stored: boolean }
  | { ok: false; code: string; name: string; reason: string; retryAfterMs?: number };

/** Names of the node-level refusals that are not envelope reject codes. */
export const RATE_LIMITED = 'RATE_LIMITED';

export class PciService {
  readonly verifier: EnvelopeVerifier;
  private readonly limiter: RateLimiter;
  private readonly ratePerSecond: number;
  private readonly m: PciServiceModules;
  private readonly log: Logger;
  private running = false;

  constructor(opts: PciServiceOptions, modules: PciServiceModules) {
    this.m = modules;
    this.log = modules.logger;
    this.verifier = new EnvelopeVerifier(opts.policy, {
      replay: new ReplayCache({ maxEntries: opts.seenCacheSize }),
    });
    this.ratePerSecond = opts.rateLimitPerSecond;
    this.limiter = new RateLimiter({
      ratePerSecond: opts.rateLimitPerSecond,
      burst: opts.rateLimitBurst,
      maxKeys: 100_000,
    });
  }

  get policy(): Readonly<PciPolicy> {
    return this.verifier.policy;
  }

  /** Joins the PCI topic with its validator. */
  start(): void {
    const pubsub = this.m.host.services.pubsub;
    pubsub.topicValidators.set(PCI_TOPIC, (peer, message) => this.validateGossip(peer, message.data));
    pubsub.subscribe(PCI_TOPIC);
    this.running = true;
  }

  stop(): void {
    this.running = false;
    const pubsub = this.m.host.services.pubsub;
    pubsub.topicValidators.delete(PCI_TOPIC);
  }

  /**
   * An envelope submitted to this node (HTTP or the stream protocol). `origin`
   * is whom the rate limit counts against: the client address or the peer id.
   */
  async submit(bytes: Uint8Array, source: Exclude<PciSource, 'gossip'>, origin: string): Promise<SubmitOutcome> {
    const now = this.m.now();
    const metrics = this.m.metrics;
    const rate = this.limiter.take(`${source}:${origin}`, now);
    if (!rate.allowed) {
      metrics.pciRateLimited.inc({ source });
      return {
        ok: false,
        code: RATE_LIMITED,
        name: RATE_LIMITED,
        reason: `more than ${this.ratePerSecond} envelopes a second from ${origin}; retry in ${rate.retryAfterMs} ms`,
        retryAfterMs: rate.retryAfterMs,
      };
    }
    metrics.pciReceived.inc({ source });
    const result = this.verify(bytes, now, true);
    if (!result.ok) {
      metrics.pciRejected.inc({ code: result.code, source });
      return { ok: false, code: result.code, name: rejectName(result.code), reason: result.reason };
    }
    const stored = await this.m.store.put({
      id: result.idHex,
      bytes: copy(bytes),
      source,
      ...(source === 'stream' ? { fromPeer: origin } : {}),
      receivedAtMs: now,
    });
    metrics.pciAccepted.inc({ source });
    await this.publish(bytes, result.idHex);
    return { ok: true, id: result.idHex, stored };
  }

  /**
   * gossipsub's validator for the PCI topic: Accept (stored, then forwarded),
   * Ignore (duplicates and what honest nodes may disagree on), Reject (what
   * no honest relay forwards; gossipsub scores the sender down for it).
   */
  private async validateGossip(peer: PeerId, bytes: Uint8Array): Promise<TopicValidatorResult> {
    const now = this.m.now();
    const metrics = this.m.metrics;
    metrics.pciReceived.inc({ source: 'gossip' });
    const result = this.verify(bytes, now, false);
    const verdict = pciGossipVerdict(result);
    if (!result.ok) {
      if (result.code === 'R006') metrics.pciDuplicates.inc();
      else metrics.pciRejected.inc({ code: result.code, source: 'gossip' });
      if (verdict === 'reject')
        this.log.debug({ peer: peer.toString(), code: result.code }, 'rejected gossiped envelope');
      return verdict === 'reject' ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore;
    }
    // Check-then-commit: two copies may be validated concurrently; the store
    // keeps one and the replay cache is marked once the first is kept.
    this.verifier.markSeen(result.idHex, result.expiresAtMs, now);
    let stored: boolean;
    try {
      stored = await this.m.store.put({
        id: result.idHex,
        bytes: copy(bytes),
        source: 'gossip',
        fromPeer: peer.toString(),
        receivedAtMs: now,
      });
    } catch (err) {
      this.log.error({ err, id: result.idHex }, 'could not store a gossiped envelope; not relaying it');
      return TopicValidatorResult.Ignore;
    }
    if (!stored) {
      // The same envelope in another gossip message (published by another node) won the race.
      metrics.pciDuplicates.inc();
      return TopicValidatorResult.Ignore;
    }
    metrics.pciAccepted.inc({ source: 'gossip' });
    return TopicValidatorResult.Accept;
  }

  private verify(bytes: Uint8Array, now: number, record: boolean): VerifyResult {
    const end = this.m.metrics.pciVerifySeconds.startTimer();
    try {
      return this.verifier.verify(bytes, now, { record });
    } finally {
      end();
    }
  }

  private async publish(bytes: Uint8Array, idHex: string): Promise<void> {
    if (!this.running) return;
    try {
      await this.m.host.services.pubsub.publish(PCI_TOPIC, bytes);
      this.m.metrics.pciRelayed.inc();
    } catch (err) {
      // Stored and accepted all the same; peers that missed it can still get it later.
      this.log.warn({ err, id: idHex }, 'could not publish an accepted envelope');
    }
  }
}

function rejectName(code: string): string {
  return isRejectCode(code) ? REJECT_CODES[code].name : code;
}

/** gossipsub may hand us a view into a buffer it reuses; keep our own copy. */
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
