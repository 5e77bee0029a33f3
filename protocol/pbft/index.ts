/** PBFT messages: types, canonical codec, signatures, verification, WAL records. */
export {
  DEFAULT_MAX_PBFT_MESSAGE_BYTES,
  decodePbftMessage,
  decodeSnapshot,
  encodeBatch,
  encodePbftMessage,
  encodeReplyLeaf,
  encodeReplyRootBody,
  encodeSnapshot,
  type PbftDecodeResult,
  PbftWireError,
} from './codec.ts';
export {
  buildReplyTree,
  MAX_REPLY_COUNT,
  MAX_REPLY_PROOF_SIBLINGS,
  type ReplyTree,
  replyLeafHash,
  replyNodeHash,
  replyProofLength,
  replyTreeProof,
  replyTreeRoot,
  rootFromProof,
} from './reply-tree.ts';
export {
  batchDigest,
  PBFT_SIGNATURE_DOMAINS,
  replyLeafDigest,
  replyRootDigest,
  replyRootOf,
  signedBodyBytes,
  signedDigest,
  signPbft,
  signReplies,
  signRequest,
  stateDigest,
  type Unsigned,
} from './sign.ts';
export { pbftStructureProblem } from './structure.ts';
export type * from './types.ts';
export { defaultPbftVerifierOptions, PbftVerifier, type PbftVerifierOptions } from './verifier.ts';
export { decodeWalRecord, encodeWalRecord, type PbftSignedRecordMessage, type PbftWalRecord } from './wal-record.ts';
