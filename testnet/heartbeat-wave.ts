/**
 * When, and over which relay link, one node hears each heartbeat of a wave: the model
 * behind the heartbeat load generator (testnet/heartbeat-load.ts), which plays all the
 * other peers of a federation to one real node. Pure: randomness comes in as `rand`.
 *
 * The model, from how the relay works (node/membership/heartbeat-relay.ts) and what
 * bench:membership measured at 200 in-process peers (2 links opened per node, 30 ms delay):
 *
 *  - Every node sends its heartbeat at the same wall-clock phase, so a round crosses the
 *    federation as one wave. Each node has about 4 links (it opens 2 and is opened by 2),
 *    so from any origin the flood reaches 4 nodes at hop 1, then 3 new ones per node per
 *    hop: our node's origins sit at depths 1 (its own link peers) to about log3(N).
 *  - A link peer's own heartbeat leaves at once (membership-service.ts), so depth-1
 *    origins arrive at the wave's start, each over its own link.
 *  - Every other heartbeat is ready at our neighbour (depth - 2) hops into the wave and
 *    waits there for the neighbour's next flush: frames on a link go out every
 *    `flushMs` (relayDelayMs) at a phase of that neighbour's own, carrying every entry
 *    that became ready since its last frame. A hop costs `hopMs` (the batching delay plus
 *    a few ms of transport and processing).
 *  - The first copy of a heartbeat comes over one link (fixed per origin: links are
 *    long-lived, so the shortest path is stable); `dup` more copies on average (measured:
 *    ~1.5 per accepted heartbeat) come over other links, each up to two hops later (a path
 *    of the same length or longer). No link carries an origin twice in a wave, as the
 *    relay keeps the newest copy per origin per link.
 *
 * The result is a wave of ~100-300 ms (depth 5-7 at 200-1000 peers) of a few frames per
 * link, about what a node sends and receives in a real federation (~25 frames/s).
 */

/** Which origins sit how far from the node, and which link brings their first copy. */
export interface WaveTopology {
  links: number;
  /** Hops from the origin to our node, per origin (1: the origin is a link peer). */
  depth: number[];
  /** The link a heartbeat's first copy arrives on, per origin. */
  firstLink: number[];
  /** The phase (ms, 0 to flushMs) at which each link's neighbour flushes its frames. */
  flushPhase: number[];
}

export interface WaveModel {
  /** Mean extra copies of each heartbeat, each over another link (at most links - 1). */
  dup: number;
  /** The time one hop adds: the relay's batching delay plus transport and processing. */
  hopMs: number;
  /** The relay's batching delay: a neighbour sends a frame at most this often. */
  flushMs: number;
}

/** One frame: at `atMs` after the wave's phase, on link `link`, these origins' heartbeats. */
export interface WaveFrame {
  atMs: number;
  link: number;
  origins: number[];
}

/** New nodes per node per hop beyond the first: ~4 links each, less the one a heartbeat came in on. */
export const FLOOD_FANOUT = 3;

/**
 * The federation as our node sees it: origins 0..links-1 are the link peers themselves
 * (depth 1, first copy over their own link); the rest fill the flood's layers in order
 * (links x FLOOD_FANOUT^(d-1) at depth d), each with a random first link.
 */
export function waveTopology(origins: number, links: number, flushMs: number, rand: () => number): WaveTopology {
  if (!Number.isInteger(links) || links < 1) throw new RangeError('links must be a positive integer');
  if (!Number.isInteger(origins) || origins < links) throw new RangeError('need at least one origin per link');
  const depth: number[] = [];
  const firstLink: number[] = [];
  let layer = links;
  let d = 1;
  let left = layer;
  for (let o = 0; o < origins; o++) {
    if (left === 0) {
      d++;
      layer *= FLOOD_FANOUT;
      left = layer;
    }
    left--;
    depth.push(d);
    firstLink.push(d === 1 ? o : Math.floor(rand() * links));
  }
  const flushPhase = Array.from({ length: links }, () => rand() * flushMs);
  return { links, depth, firstLink, flushPhase };
}

/** Jitter on when a heartbeat becomes ready at our neighbour (clocks and paths are not exact). */
const READY_JITTER_MS = 10;

/**
 * One wave's frames, in the order they are sent (by `atMs`). Each origin appears once
 * on its first link and on about `dup` other links, never twice on one link.
 */
export function planWave(topo: WaveTopology, model: WaveModel, rand: () => number): WaveFrame[] {
  const { links } = topo;
  if (!(model.dup >= 0 && model.dup <= links - 1)) throw new RangeError(`dup must be from 0 to ${links - 1}`);
  /** Frames by link, then by send time. */
  const frames = new Map<string, WaveFrame>();
  const put = (link: number, atMs: number, origin: number) => {
    const at = Math.round(atMs * 10) / 10;
    const key = `${link}@${at}`;
    const frame = frames.get(key);
    if (frame) frame.origins.push(origin);
    else frames.set(key, { atMs: at, link, origins: [origin] });
  };
  // A neighbour's next flush at or after `ready` (its flushes run at phase + k x flushMs, k >= 0).
  const flushAt = (link: number, ready: number) => {
    const phase = topo.flushPhase[link] ?? 0;
    return phase + Math.max(0, Math.ceil((ready - phase) / model.flushMs)) * model.flushMs;
  };
  const others: number[] = [];
  for (let o = 0; o < topo.depth.length; o++) {
    const depth = topo.depth[o] ?? 1;
    const first = topo.firstLink[o] ?? 0;
    let ready = 0;
    if (depth === 1) put(first, 0, o);
    else {
      ready = (depth - 2) * model.hopMs + rand() * READY_JITTER_MS;
      put(first, flushAt(first, ready), o);
    }
    // floor(dup) extra copies, plus one more with probability frac(dup): mean dup.
    const copies = Math.floor(model.dup) + (rand() < model.dup - Math.floor(model.dup) ? 1 : 0);
    if (copies === 0) continue;
    others.length = 0;
    for (let l = 0; l < links; l++) if (l !== first) others.push(l);
    for (let c = 0; c < copies && others.length > 0; c++) {
      const link = others.splice(Math.floor(rand() * others.length), 1)[0] as number;
      put(link, flushAt(link, ready + rand() * 2 * model.hopMs), o);
    }
  }
  return [...frames.values()].sort((a, b) => a.atMs - b.atMs || a.link - b.link);
}

/**
 * `k` distinct origins to stop, drawn with `rand` (a partial Fisher-Yates shuffle), in
 * the order drawn, from those that are not link peers (origins `links` and up): their
 * heartbeats reach the node through the relay, as a far node's would, while a link
 * peer's host is its own relay link and stays up.
 */
export function chooseVictims(origins: number, links: number, k: number, rand: () => number): number[] {
  const far = origins - links;
  if (!Number.isInteger(k) || k < 0 || k > far) {
    throw new RangeError(`can stop 0 to ${Math.max(0, far)} origins that are not link peers, not ${k}`);
  }
  const pool = Array.from({ length: far }, (_, i) => links + i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (far - i));
    [pool[i], pool[j]] = [pool[j] as number, pool[i] as number];
  }
  return pool.slice(0, k);
}

/**
 * The origins of a frame of the wave sent at `phase` (wall-clock ms) that still go out,
 * given when each origin stopped (`stoppedAt[o]`, same clock; absent: still running).
 * In the model every origin sends its heartbeat at the wave's phase and relays carry it
 * from there, so a heartbeat belongs to the wave's phase, not to the moment its frame
 * reaches the node: one sent before its origin stopped (phase < stoppedAt) still arrives,
 * however late in the wave; one of a wave whose phase is at or after the stop was never
 * sent, even if the generator signed it ahead. A stop within the very millisecond of
 * the phase counts as before the send.
 */
export function sentBefore(origins: readonly number[], phase: number, stoppedAt: readonly number[]): number[] {
  return origins.filter((o) => !(phase >= (stoppedAt[o] ?? Number.POSITIVE_INFINITY)));
}
