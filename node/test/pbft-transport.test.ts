/**
 * PbftTransport's links over a stand-in host (the real one is covered by the PBFT network
 * tests): a stream that stops being open without its 'close' event reaching the transport
 * is dropped and dialled again, instead of leaving the link waiting for ever.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import { PbftTransport } from '../consensus/pbft-transport.ts';
import type { ValidatorEntry } from '../consensus/validator-set.ts';
import type { Host } from '../p2p/host.ts';
import { silentLogger } from './helpers.ts';
import { until } from './pbft-helpers.ts';

/** The stream surface the transport uses; `status` is set by the test. */
class FakeStream extends EventTarget {
  status = 'open';
  writableNeedsDrain = false;
  readonly sent: Uint8Array[] = [];
  send(data: Uint8Array): boolean {
    this.sent.push(data);
    return true;
  }
  async close(): Promise<void> {
    this.status = 'closed';
  }
  abort(): void {
    this.status = 'aborted';
  }
}

async function validator(): Promise<ValidatorEntry> {
  const key = await generateKeyPair('Ed25519');
  return { publicKey: key.publicKey.raw, peerId: peerIdFromPrivateKey(key).toString(), addresses: [] };
}

describe('PbftTransport', () => {
  it('dials again a link whose stream is no longer open though no close event came', async () => {
    const validators = [await validator(), await validator()];
    const streams: FakeStream[] = [];
    const host = {
      peerStore: { merge: async () => undefined, get: async () => ({ addresses: [{}] }) },
      handle: async () => undefined,
      unhandle: async () => undefined,
      getConnections: () => [{}],
      dialProtocol: async () => {
        const s = new FakeStream();
        streams.push(s);
        return s;
      },
    } as unknown as Host;
    const transport = new PbftTransport(
      { minRedialMs: 1, maxRedialMs: 10 },
      { host, logger: silentLogger(), validators, self: 0, onFrame: () => undefined },
    );
    await transport.start();
    try {
      await until('the first stream', () => transport.connected() === 1, 2000);
      expect(streams).toHaveLength(1);
      // Closed underneath, silently: the link must not count it, and must open another.
      streams[0]!.status = 'closed';
      expect(transport.connected()).toBe(0);
      await until('a second stream', () => streams.length === 2 && transport.connected() === 1, 2000);
      transport.send(1, Uint8Array.of(1, 2, 3));
      await until('the frame on the second stream', () => streams[1]!.sent.length === 1, 2000);
      expect(streams[0]!.sent).toHaveLength(0);
    } finally {
      await transport.stop();
    }
  });
});
