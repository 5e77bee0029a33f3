import type { PeerId, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HeartbeatRelay } from '../membership/heartbeat-relay.ts';
import { NodeMetrics } from '../metrics/node-metrics.ts';
import type { Host } from '../p2p/host.ts';
import { silentLogger } from './helpers.ts';

const PEERS = [
  '12D3KooWCKjozYh82TDMTQd4gWdugoeUEgYre5mUjmTHTor1KA6L',
  '12D3KooWRVCb5PdnT4kwoX7dRKtJiqGPhwd4GLUjHwMXn6FN9jCu',
  '12D3KooWKzpoQDg5EVcLFUjXaZZMr16gNhDGcbGhcdGyUXXy3pJG',
].map((id) => peerIdFromString(id));
const SELF = peerIdFromString('12D3KooWNUM6Fuut1Z7iLjQcvTanStKw991kaDwFpNJc5oGJMy8q');

/** The little of a libp2p stream the relay touches; `status` says whether it is still open. */
function fakeStream(status: 'open' | 'reset'): Stream {
  const listeners = new Map<string, Array<(e: unknown) => void>>();
  const stream = {
    status,
    direction: 'outbound',
    writableNeedsDrain: false,
    addEventListener: (type: string, fn: (e: unknown) => void) => {
      listeners.set(type, [...(listeners.get(type) ?? []), fn]);
    },
    send: () => true,
    abort: () => {
      stream.status = 'reset';
      for (const fn of listeners.get('close') ?? []) fn({});
    },
  };
  return stream as unknown as Stream;
}

/** A host whose peers answer a relay dial with `answer(peer)`. */
function fakeHost(answer: (peer: PeerId) => Stream) {
  const dialled: string[] = [];
  const host = {
    peerId: SELF,
    getPeers: () => PEERS,
    handle: async () => undefined,
    unhandle: async () => undefined,
    dialProtocol: async (peer: PeerId) => {
      dialled.push(peer.toString());
      return answer(peer);
    },
  };
  return { host: host as unknown as Host, dialled };
}

describe('HeartbeatRelay links', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('a link reset before the dial returned (a peer that refused it) is not kept, and another peer is dialled', async () => {
    vi.useFakeTimers();
    // The relay picks links in random order; with this stub it dials a refusing peer first.
    vi.spyOn(Math, 'random').mockReturnValue(0);
    // Every peer but the last refuses: the reset has landed by the time the dial returns,
    // so no 'close' event will ever reach the relay for that stream.
    const last = PEERS[PEERS.length - 1]!.toString();
    const { host, dialled } = fakeHost((peer) => fakeStream(peer.toString() === last ? 'open' : 'reset'));
    const relay = new HeartbeatRelay(
      { degree: 1, maxLinks: 3, delayMs: 10 },
      { host, logger: silentLogger(), metrics: new NodeMetrics({ processMetrics: false }), onFrame: () => null },
    );
    await relay.start();
    for (let i = 0; i < PEERS.length && !relay.linkedPeers().includes(last); i++) {
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(relay.linkedPeers()).toEqual([last]);
    expect(dialled[0]).not.toBe(last);
    // Each refusing peer was tried once and then left alone (backoff), not redialled.
    expect(new Set(dialled).size).toBe(dialled.length);
    await relay.stop();
  });

  it('a link whose stream closed unheard is dropped at the next upkeep and replaced', async () => {
    vi.useFakeTimers();
    const streams: Stream[] = [];
    const { host } = fakeHost(() => {
      const s = fakeStream('open');
      streams.push(s);
      return s;
    });
    const relay = new HeartbeatRelay(
      { degree: 1, maxLinks: 3, delayMs: 10 },
      { host, logger: silentLogger(), metrics: new NodeMetrics({ processMetrics: false }), onFrame: () => null },
    );
    await relay.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(relay.linkedPeers()).toHaveLength(1);
    const first = relay.linkedPeers()[0];
    // Closed without an event (as a reset racing the listener would leave it).
    (streams[0] as unknown as { status: string }).status = 'reset';
    await vi.advanceTimersByTimeAsync(1_000);
    expect(relay.linkedPeers()).toHaveLength(1);
    expect(relay.linkedPeers()[0]).not.toBe(first);
    await relay.stop();
  });

  it('a full link keeps its pending heartbeats, counts the hold-back, and sends them once it drains', async () => {
    vi.useFakeTimers();
    const sent: Uint8Array[] = [];
    const stream = fakeStream('open') as unknown as { writableNeedsDrain: boolean; send: (b: Uint8Array) => boolean };
    stream.send = (bytes) => {
      sent.push(bytes);
      return true;
    };
    const { host } = fakeHost(() => stream as unknown as Stream);
    const metrics = new NodeMetrics({ processMetrics: false });
    const relay = new HeartbeatRelay(
      { degree: 1, maxLinks: 3, delayMs: 10 },
      { host, logger: silentLogger(), metrics, onFrame: () => null },
    );
    await relay.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(relay.linkedPeers()).toHaveLength(1);
    const heldBack = async () => (await metrics.relayHeldBack.get()).values[0]?.value ?? 0;

    stream.writableNeedsDrain = true;
    relay.forward('origin-a', 1, 1, Uint8Array.of(1, 2, 3));
    relay.flush();
    expect(sent).toHaveLength(0);
    expect(await heldBack()).toBe(1);

    stream.writableNeedsDrain = false;
    relay.flush();
    expect(sent).toHaveLength(1);
    expect(await heldBack()).toBe(1);
    await relay.stop();
  });
});
