/** PBFT messages: types, canonical codec, signatures, verification, WAL records. */
export {
  DEFAULT_MAX_PBFT_MESSAGE_BYTES,
  decodePbftMessage,
  decodeSnapshot,
  encodeBatch,
  encodePbftMessage,
  encodeSnapshot,
  type PbftDecodeResult,
  PbftWireError,
} from './codec.ts';
export {
  batchDigest,
  PBFT_SIGNATURE_DOMAINS,
  signedBodyBytes,
  signedDigest,
  signPbft,
  signRequest,
  stateDigest,
  type Unsigned,
} from './sign.ts';
export { pbftStructureProblem } from './structure.ts';
export type * from './types.ts';
export { defaultPbftVerifierOptions, PbftVerifier, type PbftVerifierOptions } from './verifier.ts';
export { decodeWalRecord, encodeWalRecord, type PbftSignedRecordMessage, type PbftWalRecord } from './wal-record.ts';
