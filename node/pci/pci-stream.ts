/**
 * `/bizra/pci/1.0.0`: one length-prefixed Envelope in, one length-prefixed
 * PciSubmitResponse out, then the stream closes. The length prefix is checked
 * against the size limit before any envelope byte is read (lpStream's
 * maxDataLength), so an oversized submission costs its sender, not us.
 *
 * libp2p 3 streams are message streams (send/close/async-iteration) rather than
 * the sink/source duplexes it-pipe joined, so this uses @libp2p/utils'
 * lpStream, the v3 way to frame one request and one response.
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import type { Multiaddr } from '@multiformats/multiaddr';
import {
  decodeSubmitResponse,
  encodeSubmitResponse,
  PCI_PROTOCOL,
  type SubmitResponse,
} from '../../protocol/pci/index.ts';
import type { Logger } from '../log.ts';
import type { Host } from '../p2p/host.ts';
import type { PciService } from './pci-service.ts';

/** A response is tiny: a 32-byte id or a code and a reason of at most ~1 KiB. */
const MAX_RESPONSE_BYTES = 4096;
const STREAM_TIMEOUT_MS = 10_000;

export async function handlePciStreams(host: Host, service: PciService, logger: Logger): Promise<void> {
  await host.handle(
    PCI_PROTOCOL,
    async (stream: Stream, connection: Connection) => {
      const signal = AbortSignal.timeout(STREAM_TIMEOUT_MS);
      const lp = lpStream(stream, { maxDataLength: service.policy.maxEnvelopeBytes });
      let response: SubmitResponse;
      try {
        const request = await lp.read({ signal });
        const outcome = await service.submit(request.subarray(), 'stream', connection.remotePeer.toString());
        response = outcome.ok
          ? { ok: true, id: Buffer.from(outcome.id, 'hex') }
          : { ok: false, code: outcome.code, reason: outcome.reason };
      } catch (err) {
        const e = err as { name?: string; message?: string };
        if (e.name !== 'InvalidDataLengthError' && e.name !== 'InvalidMessageLengthError') {
          logger.debug({ err, peer: connection.remotePeer.toString() }, 'PCI stream failed before a request was read');
          stream.abort(err as Error);
          return;
        }
        response = {
          ok: false,
          code: 'R005',
          reason: `envelope larger than this node's limit of ${service.policy.maxEnvelopeBytes} bytes`,
        };
      }
      try {
        await lp.write(encodeSubmitResponse(response), { signal });
        await stream.close({ signal });
      } catch (err) {
        stream.abort(err as Error);
      }
    },
    { maxInboundStreams: 32 },
  );
}

/** Submits an envelope to a peer over `/bizra/pci/1.0.0` and returns its answer. */
export async function submitOverStream(
  host: Host,
  peer: PeerId | Multiaddr,
  envelope: Uint8Array,
  opts: { timeoutMs?: number } = {},
): Promise<SubmitResponse> {
  const signal = AbortSignal.timeout(opts.timeoutMs ?? STREAM_TIMEOUT_MS);
  const stream = await host.dialProtocol(peer, PCI_PROTOCOL, { signal });
  try {
    const lp = lpStream(stream, { maxDataLength: MAX_RESPONSE_BYTES });
    await lp.write(envelope, { signal });
    const answer = await lp.read({ signal });
    await stream.close({ signal });
    return decodeSubmitResponse(answer.subarray());
  } catch (err) {
    stream.abort(err as Error);
    throw err;
  }
}
