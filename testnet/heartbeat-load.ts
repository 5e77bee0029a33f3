/**
 * A heartbeat load generator: plays N - 1 peers of a federation to one real node over
 * real libp2p, so that node's cost can be measured in its own process
 * (scripts/bench-membership-node.ts).
 *
 * It holds one Ed25519 key per origin and a few libp2p hosts (node/p2p/host.ts, as a
 * node builds its own) that each keep one relay link (/bizra/heartbeat/1.0.0) with the
 * node: the node opens some of them itself, as it would to any connected peers, and the
 * rest are opened from here. The link hosts are origins too (the first `links` keys), as
 * a node's link peers are. Every interval, on the wall-clock phase the node uses, each
 * origin's heartbeat (fixed incarnation, next sequence, the phase as its timestamp,
 * signed with the project's signHeartbeat) reaches the node in HeartbeatBatch frames
 * as the wave model has it (testnet/heartbeat-wave.ts): first copies and duplicates,
 * batched per link. Heartbeats are signed ahead, in the gap after a wave: an origin signs
 * on its own machine, so signing must not delay the frames. What the node sends back
 * is read and counted, not parsed.
 *
 * kill(o) stops origin o as a crashed node stops: from that moment no heartbeat of it is
 * signed or sent. A heartbeat belongs to its wave's phase, the moment its origin sent it
 * (the relays take it on from there): one sent before the stop still arrives as the wave
 * model has it, even after the stop; one whose phase is at or after the stop never
 * leaves, even if it was signed ahead (heartbeat-wave.ts sentBefore).
 */
import { generateKeyPairFromSeed, publicKeyFromRaw } from '@libp2p/crypto/keys';
import type { Stream } from '@libp2p/interface';
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { defaultConfig } from '../node/config/schema.ts';
import { FrameDecoder, lengthPrefixed } from '../node/membership/frame-decoder.ts';
import { createHost, type Host } from '../node/p2p/host.ts';
import { Ed25519Signer } from '../protocol/crypto/ed25519.ts';
import { signHeartbeat } from '../protocol/membership/heartbeat.ts';
import { encodeHeartbeatBatch, MAX_BATCH_BYTES } from '../protocol/membership/heartbeat-batch.ts';
import { HEARTBEAT_PROTOCOL } from '../protocol/topics.ts';
import { mulberry32 } from './cluster.ts';
import { absoluteNow } from './handle.ts';
import { planWave, sentBefore, type WaveModel, type WaveTopology, waveTopology } from './heartbeat-wave.ts';
import { sleep } from './mesh.ts';

export interface HeartbeatLoadOptions extends WaveModel {
  /** Peers played: the federation is these plus the node. */
  origins: number;
  /** Relay links with the node, one per generator host. */
  links: number;
  /** The node's membership.heartbeatIntervalMs. */
  intervalMs: number;
  seed: number;
}

/** Counters since the generator started; the caller diffs two readings. */
export interface LoadCounters {
  waves: number;
  framesSent: number;
  entriesSent: number;
  /** Frames that found their link closed and were dropped. */
  framesUnsent: number;
  /** Sends made while the link's write buffer was full (the node not reading fast enough). */
  sendsBackpressured: number;
  framesReceived: number;
  bytesReceived: number;
}

interface LinkHost {
  host: Host;
  peerId: string;
  /** Open relay streams with the node (two only briefly, if both sides dialled at once). */
  streams: Set<Stream>;
}

const wallNow = () => Date.now();
/** Between two hosts' connections to the node: under its per-address limit of 5 a second. */
const DIAL_SPACING_MS = 250;

export class HeartbeatLoad {
  private readonly opts: HeartbeatLoadOptions;
  private readonly signers: Ed25519Signer[];
  private readonly hosts: LinkHost[];
  private readonly topology: WaveTopology;
  private readonly rand: () => number;
  private readonly counters: LoadCounters = {
    waves: 0,
    framesSent: 0,
    entriesSent: 0,
    framesUnsent: 0,
    sendsBackpressured: 0,
    framesReceived: 0,
    bytesReceived: 0,
  };
  /** How late each frame left, in ms, since the last takeLag(). */
  private lags: number[] = [];
  /** Milliseconds each wave's signing took, since the last takeLag(). */
  private signMs: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** When each stopped origin stopped, on the wall clock the waves' phases are on (Date.now). */
  private readonly stoppedAt: number[] = [];
  private stopped = 0;

  private constructor(opts: HeartbeatLoadOptions, signers: Ed25519Signer[], hosts: LinkHost[]) {
    this.opts = opts;
    this.signers = signers;
    this.hosts = hosts;
    this.rand = mulberry32(opts.seed);
    this.topology = waveTopology(opts.origins, opts.links, opts.flushMs, this.rand);
  }

  /** Makes the keys and starts the link hosts (listening on loopback, so the node can dial them). */
  static async create(opts: HeartbeatLoadOptions): Promise<HeartbeatLoad> {
    // Keys from the run's seed, as the topology is: a run can be replayed peer for peer.
    const seeds = Array.from({ length: opts.origins }, (_, o) => originSeed(opts.seed, o));
    const signers = seeds.map((s) => Ed25519Signer.fromSeed(s));
    const hosts: LinkHost[] = [];
    try {
      for (let i = 0; i < opts.links; i++) {
        const p2p = { ...defaultConfig().p2p, listen: ['/ip4/127.0.0.1/tcp/0'], dht: false, bootstrap: [] };
        const privateKey = await generateKeyPairFromSeed('Ed25519', seeds[i] as Uint8Array);
        // The testnet profile: loopback allowed, no connection monitor pinging in this busy loop.
        const host = await createHost({ p2p, profile: 'testnet' }, { privateKey });
        await host.start();
        hosts.push({ host, peerId: host.peerId.toString(), streams: new Set() });
      }
    } catch (err) {
      await Promise.allSettled(hosts.map((h) => h.host.stop()));
      throw err;
    }
    const load = new HeartbeatLoad(opts, signers, hosts);
    for (const h of hosts) {
      await h.host.handle(HEARTBEAT_PROTOCOL, (stream) => load.attach(h, stream), { maxInboundStreams: 2 });
    }
    return load;
  }

  /**
   * Connects every host to the node, waits for the node to open its own `nodeOpens`
   * links (it does within a second or two of a connection), then opens the rest from here.
   */
  async connect(node: { peerId: string; addrs: string[] }, nodeOpens: number, timeoutMs = 15_000): Promise<void> {
    const addr = multiaddr(node.addrs[0] ?? '');
    for (const [i, h] of this.hosts.entries()) {
      // All hosts share 127.0.0.1, and a node takes at most 5 inbound connections a second
      // from one address (p2p.inboundConnectionThreshold); real peers have addresses of their own.
      if (i > 0) await sleep(DIAL_SPACING_MS);
      await h.host.dial(addr);
    }
    const deadline = performance.now() + timeoutMs;
    const linked = () => this.hosts.filter((h) => h.streams.size > 0).length;
    while (linked() < Math.min(nodeOpens, this.hosts.length) && performance.now() < deadline) await sleep(50);
    const peer = peerIdFromString(node.peerId);
    for (const h of this.hosts) {
      if (h.streams.size > 0) continue;
      const stream = await h.host.dialProtocol(peer, HEARTBEAT_PROTOCOL, { signal: AbortSignal.timeout(5_000) });
      this.attach(h, stream);
    }
    while (linked() < this.hosts.length && performance.now() < deadline) await sleep(50);
    if (linked() < this.hosts.length) throw new Error(`only ${linked()} of ${this.hosts.length} relay links formed`);
  }

  /** Open relay links now. */
  linksOpen(): number {
    return this.hosts.filter((h) => h.streams.size > 0).length;
  }

  /** Starts sending waves, from the next interval boundary on. */
  start(): void {
    this.running = true;
    this.nextWave(1);
  }

  counts(): LoadCounters {
    return { ...this.counters };
  }

  /** Send lags (ms late per frame) and signing times (ms per wave) since the last call. */
  takeLag(): { lags: number[]; signMs: number[] } {
    const out = { lags: this.lags, signMs: this.signMs };
    this.lags = [];
    this.signMs = [];
    return out;
  }

  /** The peer id the node knows origin `o` by (from its public key, as the node derives it). */
  peerIdOf(o: number): string {
    const signer = this.signers[o];
    if (signer === undefined) throw new RangeError(`no origin ${o}`);
    return peerIdFromPublicKey(publicKeyFromRaw(signer.publicKey)).toString();
  }

  /**
   * Stops origin `o` now, for good: no heartbeat of it is signed or sent from this moment
   * on, while one it sent before (its wave's phase is earlier) still arrives as the wave
   * model has it. Returns the moment it stopped, in absolute ms (absoluteNow:
   * performance.timeOrigin + performance.now(), comparable with the node's process),
   * and how far into the heartbeat interval that was (ms past the last wave's phase).
   */
  kill(o: number): { at: number; phaseMs: number } {
    if (o < 0 || o >= this.signers.length) throw new RangeError(`no origin ${o}`);
    // One instant read on both clocks: the wall clock to compare with the waves' phases,
    // the absolute one to compare with the node's transitions.
    const wall = wallNow();
    const at = absoluteNow();
    if (this.stoppedAt[o] === undefined) {
      this.stoppedAt[o] = wall;
      this.stopped++;
    }
    return { at, phaseMs: wall % this.opts.intervalMs };
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await Promise.allSettled(this.hosts.map((h) => h.host.stop()));
  }

  /** Signs wave `sequence` for the next interval boundary and sends it there. */
  private nextWave(sequence: number): void {
    if (!this.running) return;
    const interval = this.opts.intervalMs;
    const phase = Math.ceil(wallNow() / interval) * interval;
    const t0 = performance.now();
    // A stopped origin signs nothing any more (the same test as sentBefore: it signs this
    // wave only if it is still running at `phase`). One that stops after this signing but
    // before `phase` has its bytes dropped at send time, as it never sent them.
    const bytes = this.signers.map((s, o) =>
      phase >= (this.stoppedAt[o] ?? Number.POSITIVE_INFINITY)
        ? undefined
        : signHeartbeat(
            { incarnation: 1, sequence, timestampMs: phase, consensusHeight: 0, loadPermille: 250, gpu: false },
            s,
          ),
    );
    this.signMs.push(performance.now() - t0);
    // If signing ran past the boundary (a saturated generator), the frames go at once
    // and show as lag.
    const frames = planWave(this.topology, this.opts, this.rand);
    let next = 0;
    const step = () => {
      if (!this.running) return;
      const now = wallNow();
      while (next < frames.length && phase + (frames[next] as { atMs: number }).atMs <= now + 0.5) {
        const f = frames[next++]!;
        this.lags.push(Math.max(0, now - (phase + f.atMs)));
        // Decided by the wave's phase, not by when this frame goes: a frame late in the
        // wave, after an origin stopped, still carries the heartbeat it sent at `phase`.
        const origins = this.stopped === 0 ? f.origins : sentBefore(f.origins, phase, this.stoppedAt);
        const entries = origins.flatMap((o) => bytes[o] ?? []);
        if (entries.length > 0) this.send(this.hosts[f.link] as LinkHost, entries);
      }
      if (next < frames.length) {
        this.timer = setTimeout(step, Math.max(0, phase + frames[next]!.atMs - wallNow()));
        return;
      }
      this.counters.waves++;
      // Sign the next wave in the quiet part of the interval, well before its boundary.
      this.timer = setTimeout(() => this.nextWave(sequence + 1), Math.max(0, phase + interval / 2 - wallNow()));
    };
    this.timer = setTimeout(step, Math.max(0, phase - wallNow()));
  }

  private send(h: LinkHost, entries: Uint8Array[]): void {
    const stream = [...h.streams].find((s) => s.status === 'open');
    if (stream === undefined) {
      this.counters.framesUnsent++;
      return;
    }
    if (stream.writableNeedsDrain) this.counters.sendsBackpressured++;
    try {
      stream.send(lengthPrefixed(encodeHeartbeatBatch(entries)));
      this.counters.framesSent++;
      this.counters.entriesSent += entries.length;
    } catch {
      this.counters.framesUnsent++;
    }
  }

  /** Keeps `stream` as a relay link of host `h`; the node's frames on it are counted and dropped. */
  private attach(h: LinkHost, stream: Stream): void {
    h.streams.add(stream);
    const decoder = new FrameDecoder(MAX_BATCH_BYTES);
    stream.addEventListener('message', (evt) => {
      const data = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray();
      this.counters.bytesReceived += data.length;
      this.counters.framesReceived += decoder.push(data).length;
    });
    stream.addEventListener('close', () => h.streams.delete(stream));
  }
}

/** The 32-byte key seed of origin `o` in a run seeded with `seed`: distinct for every (seed, o). */
function originSeed(seed: number, o: number): Uint8Array {
  const bytes = new Uint8Array(32).fill(0x6b);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, seed >>> 0);
  view.setUint32(4, o);
  return bytes;
}
