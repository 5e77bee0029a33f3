/**
 * The heartbeat relay: how every node hears every other node's signed heartbeat
 * without a message per heartbeat per hop.
 *
 * Each node keeps a few long-lived relay links (libp2p protocol
 * `/bizra/heartbeat/1.0.0`, one bidirectional stream each) to peers it is connected
 * to: it opens up to `degree` itself and accepts others' up to `maxLinks`. When a
 * heartbeat is accepted, the relay waits `delayMs` for others to batch with it, then
 * sends each link one HeartbeatBatch frame of what it accepted since its last frame
 * there, the newest per origin only. A heartbeat travels the link graph like a flood,
 * but batched: the cost per hop is a frame per link, not a message per heartbeat, and
 * duplicate copies are dropped on (incarnation, sequence) before any signature is
 * checked.
 *
 * Batching works because heartbeats travel in waves: every node sends its own at the
 * same wall-clock phase (membership-service.ts), so one round's heartbeats cross the
 * federation together, a few frames per link per round, each hop adding at most
 * `delayMs`. Clocks out of step only cost batching, never correctness.
 *
 * Why not gossipsub, as the first version did: a gossipsub message costs every node
 * its own RPC, seen-cache, validation and score bookkeeping per copy; measured, ~1.6 ms
 * of CPU per received heartbeat at 32 in-process nodes, so the N^2 heartbeats a second
 * of a 200-node federation were out of reach of one machine (docs/membership.md).
 *
 * What a heartbeat means is decided by the membership service (`onFrame`): the relay
 * only moves bytes, keeps per-link queues and hangs up on a link that sends junk.
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import {
  decodeHeartbeatBatch,
  encodeHeartbeatBatch,
  MAX_BATCH_BYTES,
  MAX_BATCH_ENTRIES,
} from '../../protocol/membership/heartbeat-batch.ts';
import { HEARTBEAT_PROTOCOL } from '../../protocol/topics.ts';
import type { Logger } from '../log.ts';
import type { NodeMetrics } from '../metrics/node-metrics.ts';
import type { Host } from '../p2p/host.ts';
import { FrameDecoder, lengthPrefixed } from './frame-decoder.ts';

export interface HeartbeatRelayOptions {
  /** How long an accepted heartbeat waits for others to share its frame: the most a hop adds. */
  delayMs: number;
  /** Relay links this node opens itself. */
  degree: number;
  /** Relay links in all, including those others opened to us. */
  maxLinks: number;
}

/** The same as the `membership.relay*` settings' defaults (2 links, 30 ms: cheapest and fastest measured at 200 peers). */
export const defaultHeartbeatRelayOptions: HeartbeatRelayOptions = { delayMs: 30, degree: 2, maxLinks: 6 };

/** What the relay asks of the membership service for every frame a link delivers. */
export type FrameHandler = (entries: Uint8Array[], from: string) => string | null;

export interface HeartbeatRelayModules {
  host: Host;
  logger: Logger;
  metrics: NodeMetrics;
  /** Handles a frame's entries; returns why the link must be hung up, or null. */
  onFrame: FrameHandler;
}

interface Pending {
  bytes: Uint8Array;
  incarnation: number;
  sequence: number;
}

interface Link {
  readonly peer: string;
  readonly stream: Stream;
  /** Newest heartbeat per origin peer waiting for the next frame on this link. */
  readonly pending: Map<string, Pending>;
}

/** How long a peer that refused a link is left alone before we dial it again. */
const REDIAL_BACKOFF_MS = 30_000;
/** A link that closed is not redialled at once, so a peer that keeps closing cannot make us spin. */
const CLOSED_BACKOFF_MS = 5_000;
/** How long a peer we hung up on for sending junk may not link with us at all. */
const BAN_MS = 60_000;
const DIAL_TIMEOUT_MS = 5_000;
/** How often missing links are looked for (also at start). */
const UPKEEP_MS = 1_000;

/** A copy of `items` in random order (Fisher-Yates). Which links form needs no reproducibility. */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function newer(a: { incarnation: number; sequence: number }, incarnation: number, sequence: number): boolean {
  return a.incarnation > incarnation || (a.incarnation === incarnation && a.sequence > sequence);
}

export class HeartbeatRelay {
  private readonly opts: HeartbeatRelayOptions;
  private readonly m: HeartbeatRelayModules;
  private readonly links = new Map<string, Link>();
  private readonly dialing = new Set<string>();
  /** Peers not to dial before the given time (performance.now() ms). */
  private readonly backoff = new Map<string, number>();
  /** Peers whose links we refuse until the given time: they sent invalid frames. */
  private readonly banned = new Map<string, number>();
  /** Link upkeep (dialling new links when some closed). */
  private upkeepTimer: NodeJS.Timeout | undefined;
  /** The pending flush, set when a heartbeat is queued and none is. */
  private flushTimer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(opts: Partial<HeartbeatRelayOptions>, modules: HeartbeatRelayModules) {
    this.opts = { ...defaultHeartbeatRelayOptions, ...opts };
    this.m = modules;
  }

  async start(): Promise<void> {
    this.running = true;
    await this.m.host.handle(HEARTBEAT_PROTOCOL, (stream, connection) => this.accept(stream, connection), {
      maxInboundStreams: 2,
    });
    this.upkeepTimer = setInterval(() => this.maintain(), UPKEEP_MS);
    this.upkeepTimer.unref();
    this.maintain();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.upkeepTimer);
    clearTimeout(this.flushTimer);
    this.upkeepTimer = undefined;
    this.flushTimer = undefined;
    await this.m.host.unhandle(HEARTBEAT_PROTOCOL).catch(() => undefined);
    for (const link of this.links.values()) link.stream.abort(new Error('relay stopped'));
    this.links.clear();
  }

  /** Peers we have a relay link with. */
  linkedPeers(): string[] {
    return [...this.links.keys()];
  }

  /**
   * Queues an accepted heartbeat of `origin` for every link but the one it came
   * from and the origin's own; a newer one of the same origin replaces it.
   */
  forward(origin: string, incarnation: number, sequence: number, bytes: Uint8Array, from?: string): void {
    for (const link of this.links.values()) {
      if (link.peer === from || link.peer === origin) continue;
      const queued = link.pending.get(origin);
      if (queued !== undefined && !newer({ incarnation, sequence }, queued.incarnation, queued.sequence)) continue;
      link.pending.set(origin, { bytes, incarnation, sequence });
    }
    if (this.flushTimer === undefined && this.running) {
      this.flushTimer = setTimeout(() => this.flush(), this.opts.delayMs);
      this.flushTimer.unref();
    }
  }

  /**
   * `from` has just shown it holds this heartbeat of `origin` (it sent it to us), so
   * a queued copy no newer than it need not go back to it.
   */
  heard(from: string, origin: string, incarnation: number, sequence: number): void {
    const link = this.links.get(from);
    const queued = link?.pending.get(origin);
    if (queued !== undefined && !newer(queued, incarnation, sequence)) link!.pending.delete(origin);
  }

  /** Sends every link its pending heartbeats now (also run `delayMs` after a heartbeat is queued). */
  flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (!this.running) return;
    for (const link of this.links.values()) this.send(link);
  }

  private send(link: Link): void {
    if (link.pending.size === 0 || link.stream.status !== 'open') return;
    if (link.stream.writableNeedsDrain) {
      // The peer is not reading as fast as we write. The newest heartbeat per origin
      // stays queued; if every link of a node is held back for seconds, its peers
      // will suspect it, and this counter says why.
      this.m.metrics.relayHeldBack.inc();
      return;
    }
    const entries: Uint8Array[] = [];
    for (const [origin, p] of link.pending) {
      entries.push(p.bytes);
      link.pending.delete(origin);
      if (entries.length === MAX_BATCH_ENTRIES) break;
    }
    try {
      link.stream.send(lengthPrefixed(encodeHeartbeatBatch(entries)));
      this.m.metrics.relayFrames.inc({ direction: 'out' });
    } catch (err) {
      this.m.logger.debug({ err, peer: link.peer }, 'heartbeat relay link failed on send');
      link.stream.abort(err as Error);
    }
  }

  /** Opens links until this node has opened `degree` (or run out of connected peers to ask). */
  private maintain(): void {
    this.dropClosedLinks();
    const opened = [...this.links.values()].filter((l) => l.stream.direction === 'outbound').length;
    let wanted = this.opts.degree - opened - this.dialing.size;
    if (wanted <= 0 || this.links.size + this.dialing.size >= this.opts.maxLinks) return;
    const now = performance.now();
    // In random order: the first connections are to the oldest nodes, which would
    // otherwise be everyone's first choice and end up carrying most of the links.
    for (const peer of shuffled(this.m.host.getPeers())) {
      if (wanted <= 0) break;
      const id = peer.toString();
      if (this.links.has(id) || this.dialing.has(id)) continue;
      if ((this.backoff.get(id) ?? 0) > now || (this.banned.get(id) ?? 0) > now) continue;
      wanted--;
      void this.dial(peer, id);
    }
  }

  private async dial(peer: PeerId, id: string): Promise<void> {
    this.dialing.add(id);
    try {
      const stream = await this.m.host.dialProtocol(peer, HEARTBEAT_PROTOCOL, {
        signal: AbortSignal.timeout(DIAL_TIMEOUT_MS),
      });
      if (!this.running) {
        stream.abort(new Error('relay stopped'));
        return;
      }
      this.attach(id, stream);
    } catch (err) {
      // Not a BIZRA node with membership on, or gone: leave it alone for a while.
      this.backoff.set(id, performance.now() + REDIAL_BACKOFF_MS);
      this.m.logger.debug({ err, peer: id }, 'could not open a heartbeat relay link');
    } finally {
      this.dialing.delete(id);
    }
  }

  private accept(stream: Stream, connection: Connection): void {
    const id = connection.remotePeer.toString();
    if (!this.running || (this.banned.get(id) ?? 0) > performance.now()) {
      stream.abort(new Error('heartbeat relay link refused'));
      return;
    }
    if (this.links.size >= this.opts.maxLinks && !this.links.has(id)) {
      stream.abort(new Error('heartbeat relay links full'));
      return;
    }
    this.attach(id, stream);
  }

  /**
   * Makes `stream` the link to `peer`. Two peers that dial each other at once end up
   * with two streams; both keep the one opened by the smaller peer id, so they agree.
   */
  private attach(peer: string, stream: Stream): void {
    // A peer that refuses a link (full, or banning us) resets the stream at once, and
    // the reset can land before we get here: its 'close' event has then been and gone,
    // and a link attached now would be a zombie that counts toward our degree forever.
    if (stream.status !== 'open') {
      this.backoff.set(peer, Math.max(this.backoff.get(peer) ?? 0, performance.now() + REDIAL_BACKOFF_MS));
      return;
    }
    const existing = this.links.get(peer);
    if (existing !== undefined) {
      const self = this.m.host.peerId.toString();
      const dialerOf = (s: Stream) => (s.direction === 'outbound' ? self : peer);
      const keep = dialerOf(stream) < dialerOf(existing.stream) ? stream : existing.stream;
      if (keep === existing.stream) {
        stream.abort(new Error('duplicate heartbeat relay link'));
        return;
      }
      this.links.delete(peer);
      existing.stream.abort(new Error('duplicate heartbeat relay link'));
    }
    const link: Link = { peer, stream, pending: new Map() };
    this.links.set(peer, link);
    const decoder = new FrameDecoder(MAX_BATCH_BYTES);
    stream.addEventListener('message', (evt) => {
      if (!this.running) return;
      const data = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray();
      let frames: Uint8Array[];
      try {
        frames = decoder.push(data);
      } catch (err) {
        this.hangUp(link, (err as Error).message);
        return;
      }
      for (const frame of frames) {
        this.m.metrics.relayFrames.inc({ direction: 'in' });
        const entries = decodeHeartbeatBatch(frame);
        const problem = typeof entries === 'string' ? entries : this.m.onFrame(entries, peer);
        if (problem !== null) {
          this.hangUp(link, problem);
          return;
        }
      }
    });
    stream.addEventListener('close', () => {
      if (this.links.get(peer) !== link) return;
      this.links.delete(peer);
      this.backoff.set(peer, Math.max(this.backoff.get(peer) ?? 0, performance.now() + CLOSED_BACKOFF_MS));
    });
  }

  /** Forgets links whose stream closed without us hearing of it (belt and braces for attach's check). */
  private dropClosedLinks(): void {
    for (const [peer, link] of this.links) {
      if (link.stream.status === 'open') continue;
      this.links.delete(peer);
      this.backoff.set(peer, Math.max(this.backoff.get(peer) ?? 0, performance.now() + CLOSED_BACKOFF_MS));
    }
  }

  /** Drops a link that sent something no honest relay sends, and does not dial it again soon. */
  private hangUp(link: Link, reason: string): void {
    this.m.logger.warn({ peer: link.peer, reason }, 'hanging up a heartbeat relay link that sent an invalid frame');
    this.banned.set(link.peer, performance.now() + BAN_MS);
    if (this.links.get(link.peer) === link) this.links.delete(link.peer);
    link.stream.abort(new Error(`invalid heartbeat frame: ${reason}`));
  }
}
