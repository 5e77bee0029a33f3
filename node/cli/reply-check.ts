/**
 * `bizra consensus submit` checks the REPLY a node answers with before printing it as
 * committed: the leaf of (this client's key, this request's timestamp, the result) and the
 * proof must fold to a root that the named replica signed, under the validator set's key
 * for that replica. A node that altered the result, named another replica or answered for
 * another request is caught; what one honest replica's signed REPLY cannot show (that the
 * result is the federation's) is what f + 1 matching REPLYs from different validators show.
 */

import type { PbftReply, PbftRequest } from '../../protocol/pbft/types.ts';
import { PbftVerifier } from '../../protocol/pbft/verifier.ts';
import type { ValidatorSetFile } from '../consensus/validator-set.ts';

/** The `200` body of `POST /v1/consensus/requests` (docs/pbft.md, "HTTP and the client rule"). */
export interface CommittedAnswer {
  view?: unknown;
  replica?: unknown;
  result?: unknown;
  proof?: { index?: unknown; count?: unknown; siblings?: unknown } | unknown;
  signature?: unknown;
}

const HEX = /^(?:[0-9a-f]{2})*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The REPLY an answer carries for `request`, or why the answer is not one. */
export function replyOf(answer: CommittedAnswer, request: PbftRequest): PbftReply | string {
  const { view, replica, result, signature } = answer;
  const proof = (answer.proof ?? {}) as { index?: unknown; count?: unknown; siblings?: unknown };
  if (!Number.isSafeInteger(view) || (view as number) < 0) return 'no view';
  if (!Number.isSafeInteger(replica) || (replica as number) < 0) return 'no replica';
  if (typeof result !== 'string' || !BASE64.test(result)) return 'no base64 result';
  if (typeof signature !== 'string' || !HEX.test(signature) || signature.length !== 128) return 'no 64-byte signature';
  if (!Number.isSafeInteger(proof.index) || !Number.isSafeInteger(proof.count)) return 'no proof index and count';
  const siblings = proof.siblings;
  if (!Array.isArray(siblings) || !siblings.every((s) => typeof s === 'string' && HEX.test(s) && s.length === 64)) {
    return 'no proof siblings (32-byte hex each)';
  }
  return {
    type: 'reply',
    view: view as number,
    timestamp: request.timestamp,
    client: request.client,
    replica: replica as number,
    result: new Uint8Array(Buffer.from(result, 'base64')),
    proof: {
      index: proof.index as number,
      count: proof.count as number,
      siblings: siblings.map((s: string) => new Uint8Array(Buffer.from(s, 'hex'))),
    },
    signature: new Uint8Array(Buffer.from(signature, 'hex')),
  };
}

/** Null when `answer` is `request`'s REPLY signed by the replica it names in `set`; else what is wrong. */
export function checkReply(answer: CommittedAnswer, request: PbftRequest, set: ValidatorSetFile): string | null {
  const reply = replyOf(answer, request);
  if (typeof reply === 'string') return `the answer is not a REPLY: ${reply}`;
  const validator = set.validators[reply.replica];
  if (validator === undefined) {
    return `the REPLY names replica ${reply.replica}, and the validator set (chain ${set.chainId}) has ${set.validators.length}`;
  }
  if (!new PbftVerifier({ validCacheSize: 0 }).verify(reply, validator.publicKey)) {
    return `the REPLY does not verify under replica ${reply.replica}'s key: its result, proof or signature is not what that replica signed for this request`;
  }
  return null;
}
