/**
 * proto/bizra.proto loaded with protobufjs, once, when this module is first imported.
 *
 * Runtime loading rather than generated code (pbjs): the .proto stays the only source
 * of truth, so there is no generated file that could drift from it or need its own
 * review, and protobufjs still compiles a specialised encoder/decoder per type on
 * first use, as fast as generated static code. The price is a synchronous read of
 * one small file at import; the file ships with the sources (the Dockerfile copies
 * proto/). The TypeScript shapes of decoded messages are declared where they are
 * used and every decoded value is checked there, so nothing trusts protobufjs's
 * loose `Message` typing.
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

export const PROTO_PATH = fileURLToPath(new URL('../../proto/bizra.proto', import.meta.url));

const root = protobuf.loadSync(PROTO_PATH).resolveAll();

/** Types of the bizra.v1 package. Reflection objects: immutable once resolved. */
export const EnvelopeBodyType = root.lookupType('bizra.v1.EnvelopeBody');
export const EnvelopeType = root.lookupType('bizra.v1.Envelope');
export const PciSubmitResponseType = root.lookupType('bizra.v1.PciSubmitResponse');
export const HeartbeatBodyType = root.lookupType('bizra.v1.HeartbeatBody');
/** Read by hand on the hot path (protocol/membership/heartbeat-batch.ts); here for cross-checks. */
export const HeartbeatBatchType = root.lookupType('bizra.v1.HeartbeatBatch');

/** Wire numbers of AgentType, read from the schema so the two cannot disagree. */
export const AGENT_TYPE_NUMBERS: Readonly<Record<string, number>> = Object.freeze({
  ...root.lookupEnum('bizra.v1.AgentType').values,
});

export { protobuf };
