/**
 * How PBFT messages travel between validators: libp2p protocol `/bizra/pbft/1.0.0`, one
 * long-lived stream opened by each validator to each other validator and written in
 * that direction only (so there is never a question of which of two crossing streams to
 * keep). Frames are varint-length-prefixed PbftMessage bytes.
 *
 * Performance (the lesson of the heartbeat relay, node/membership/): frames are read
 * from the stream's 'message' events through a FrameDecoder, never with lpStream.read
 * (which awaits a promise per byte of each length prefix); frames for one validator
 * queued during one turn of the event loop go out as one `stream.send`, and nothing is
 * sent while the stream asks to drain.
 *
 * The transport is a dumb pipe: every message is self-authenticating (signed by its
 * replica or client), so it only checks that an inbound stream comes from a peer id of
 * the validator set. Lost frames (a stream that broke, a full queue) are recovered by
 * the replica's STATUS-driven retransmission. A validator that drops is redialled, with
 * a backoff that grows to `maxRedialMs`.
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { PBFT_PROTOCOL } from '../../protocol/topics.ts';
import type { Logger } from '../log.ts';
import { FrameDecoder, lengthPrefixed } from '../membership/frame-decoder.ts';
import type { Host } from '../p2p/host.ts';
import type { ValidatorEntry } from './validator-set.ts';

export interface PbftTransportOptions {
  /** Largest frame read (a state transfer carries the application snapshot). */
  maxFrameBytes: number;
  /** Bytes queued for one validator while its stream is down or draining; beyond it the oldest frames are dropped. */
  maxQueuedBytes: number;
  /** First redial delay after a failure; doubles up to maxRedialMs. */
  minRedialMs: number;
  maxRedialMs: number;
  dialTimeoutMs: number;
}

export const defaultPbftTransportOptions: PbftTransportOptions = {
  maxFrameBytes: 64 * 1024 * 1024,
  maxQueuedBytes: 16 * 1024 * 1024,
  minRedialMs: 100,
  maxRedialMs: 2000,
  dialTimeoutMs: 5000,
};

export interface PbftTransportModules {
  host: Host;
  logger: Logger;
  validators: readonly ValidatorEntry[];
  /** This node's index in `validators`. */
  self: number;
  /** A frame from validator `from` (decode it; it may be anything). */
  onFrame: (from: number, frame: Uint8Array) => void;
  /** A frame was dropped before sending (queue full). */
  onDrop?: (to: number) => void;
}

interface Link {
  readonly index: number;
  readonly peerId: PeerId;
  stream: Stream | null;
  dialing: boolean;
  failures: number;
  notBefore: number;
  /** Length-prefixed frames waiting to be sent. */
  queue: Uint8Array[];
  queuedBytes: number;
}

const MAINTAIN_MS = 100;
/** How often a validator with no known address is looked for again in the peer store. */
const NO_ADDRESS_RETRY_MS = 250;

export class PbftTransport {
  readonly opts: PbftTransportOptions;
  readonly #m: PbftTransportModules;
  readonly #links: (Link | null)[];
  readonly #byPeer = new Map<string, number>();
  readonly #dirty = new Set<Link>();
  #flushScheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(opts: Partial<PbftTransportOptions>, modules: PbftTransportModules) {
    this.opts = { ...defaultPbftTransportOptions, ...opts };
    this.#m = modules;
    this.#links = modules.validators.map((v, index) => {
      this.#byPeer.set(v.peerId, index);
      if (index === modules.self) return null;
      return {
        index,
        peerId: peerIdFromString(v.peerId),
        stream: null,
        dialing: false,
        failures: 0,
        notBefore: 0,
        queue: [],
        queuedBytes: 0,
      };
    });
  }

  async start(): Promise<void> {
    this.#running = true;
    // The addresses of the validator-set file go to the peer store, where dials look.
    for (const [i, v] of this.#m.validators.entries()) {
      if (i === this.#m.self || v.addresses.length === 0) continue;
      await this.#m.host.peerStore
        .merge(this.#links[i]!.peerId, { multiaddrs: v.addresses.map((a) => multiaddr(a)) })
        .catch((err: unknown) => this.#m.logger.warn({ err, validator: i }, 'could not record validator addresses'));
    }
    await this.#m.host.handle(PBFT_PROTOCOL, (stream, connection) => this.#accept(stream, connection), {
      maxInboundStreams: 4,
      maxOutboundStreams: 4,
    });
    this.#timer = setInterval(() => this.#maintain(), MAINTAIN_MS);
    this.#timer.unref();
    this.#maintain();
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearInterval(this.#timer);
    this.#timer = undefined;
    // Frames already handed to the streams go out before they close.
    this.#flush();
    await this.#m.host.unhandle(PBFT_PROTOCOL).catch(() => undefined);
    await Promise.allSettled(
      this.#links.map(async (l) => {
        if (l?.stream == null) return;
        const s = l.stream;
        l.stream = null;
        await s.close({ signal: AbortSignal.timeout(1000) }).catch(() => s.abort(new Error('pbft transport stopped')));
      }),
    );
  }

  /** Validators (others) this node has an open stream to. */
  connected(): number {
    return this.#links.filter((l) => l?.stream?.status === 'open').length;
  }

  /** Queues a frame for validator `to`; it leaves at the end of this turn of the event loop. */
  send(to: number, frame: Uint8Array): void {
    const link = this.#links[to];
    if (link == null || !this.#running) return;
    this.#enqueue(link, lengthPrefixed(frame));
  }

  /** Queues a frame for every other validator (encoded and prefixed once). */
  broadcast(frame: Uint8Array): void {
    if (!this.#running) return;
    const prefixed = lengthPrefixed(frame);
    for (const link of this.#links) if (link !== null) this.#enqueue(link, prefixed);
  }

  #enqueue(link: Link, prefixed: Uint8Array): void {
    link.queue.push(prefixed);
    link.queuedBytes += prefixed.length;
    while (link.queuedBytes > this.opts.maxQueuedBytes && link.queue.length > 1) {
      const dropped = link.queue.shift()!;
      link.queuedBytes -= dropped.length;
      this.#m.onDrop?.(link.index);
    }
    this.#dirty.add(link);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    for (const link of this.#dirty) {
      const s = link.stream;
      if (s === null || s.status !== 'open' || s.writableNeedsDrain) continue;
      this.#dirty.delete(link);
      if (link.queue.length === 0) continue;
      const data = link.queue.length === 1 ? link.queue[0]! : Buffer.concat(link.queue);
      link.queue = [];
      link.queuedBytes = 0;
      try {
        if (!s.send(data)) s.addEventListener('drain', () => this.#wake(link), { once: true });
      } catch (err) {
        this.#m.logger.debug({ err, validator: link.index }, 'pbft stream failed on send');
        s.abort(err as Error);
      }
    }
  }

  #wake(link: Link): void {
    if (link.queue.length === 0) return;
    this.#dirty.add(link);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #maintain(): void {
    if (!this.#running) return;
    const now = performance.now();
    for (const link of this.#links) {
      if (link === null) continue;
      if (link.stream !== null && link.stream.status !== 'open') {
        // Closed without a 'close' event reaching us: drop it, or the link would wait forever.
        link.stream = null;
      }
      if (link.dialing || link.stream !== null || link.notBefore > now) continue;
      void this.#dial(link);
    }
  }

  async #dial(link: Link): Promise<void> {
    link.dialing = true;
    try {
      // Without an address (none in the validator-set file, none learnt yet) libp2p would
      // start a DHT lookup, and every other dial to that peer would queue behind it.
      if (this.#m.host.getConnections(link.peerId).length === 0) {
        const known = await this.#m.host.peerStore.get(link.peerId).then(
          (p) => p.addresses.length,
          () => 0,
        );
        if (known === 0) {
          link.notBefore = performance.now() + NO_ADDRESS_RETRY_MS;
          return;
        }
      }
      const stream = await this.#m.host.dialProtocol(link.peerId, PBFT_PROTOCOL, {
        signal: AbortSignal.timeout(this.opts.dialTimeoutMs),
      });
      if (!this.#running) {
        stream.abort(new Error('pbft transport stopped'));
        return;
      }
      link.stream = stream;
      link.failures = 0;
      stream.addEventListener('close', () => {
        if (link.stream !== stream) return;
        link.stream = null;
        link.notBefore = performance.now() + this.opts.minRedialMs;
      });
      // Nothing is read on our own stream; a peer that writes to it is ignored.
      this.#m.logger.debug({ validator: link.index }, 'pbft stream open');
      this.#wake(link);
    } catch (err) {
      link.failures++;
      link.notBefore =
        performance.now() + Math.min(this.opts.minRedialMs * 2 ** (link.failures - 1), this.opts.maxRedialMs);
      if (link.failures === 1 || link.failures % 20 === 0) {
        this.#m.logger.debug({ err, validator: link.index, failures: link.failures }, 'could not open a pbft stream');
      }
    } finally {
      link.dialing = false;
    }
  }

  #accept(stream: Stream, connection: Connection): void {
    const from = this.#byPeer.get(connection.remotePeer.toString());
    if (!this.#running || from === undefined || from === this.#m.self) {
      stream.abort(new Error('not a validator of this set'));
      return;
    }
    const decoder = new FrameDecoder(this.opts.maxFrameBytes);
    stream.addEventListener('message', (evt) => {
      if (!this.#running) return;
      const data = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray();
      let frames: Uint8Array[];
      try {
        frames = decoder.push(data);
      } catch (err) {
        this.#m.logger.warn({ validator: from, reason: (err as Error).message }, 'hanging up a pbft stream');
        stream.abort(err as Error);
        return;
      }
      for (const frame of frames) this.#m.onFrame(from, frame);
    });
    // The peer's stream being up suggests ours can be too: dial back now rather than at the backoff.
    const link = this.#links[from];
    if (link != null && link.stream === null && !link.dialing) {
      link.notBefore = 0;
      void this.#dial(link);
    }
  }
}
