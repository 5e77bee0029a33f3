/**
 * PciSubmitResponse: the one answer to an envelope submitted on /bizra/pci/1.0.0.
 * Either the accepted envelope's id or a reject (an R-code, or a node-level code
 * such as RATE_LIMITED, with a human-readable reason).
 */
import { PciSubmitResponseType } from '../codec/schema.ts';

export type SubmitResponse = { ok: true; id: Uint8Array } | { ok: false; code: string; reason: string };

/** Codes are short identifiers; reasons are capped so an answer stays small. */
export const REJECT_CODE_MAX_LENGTH = 64;
export const REJECT_REASON_MAX_LENGTH = 1024;

/** Encodes an answer into a fresh array (not a view into protobufjs's shared buffer pool). */
export function encodeSubmitResponse(r: SubmitResponse): Uint8Array {
  const message = r.ok
    ? { acceptedId: r.id }
    : {
        rejected: {
          code: r.code.slice(0, REJECT_CODE_MAX_LENGTH),
          reason: r.reason.slice(0, REJECT_REASON_MAX_LENGTH),
        },
      };
  return new Uint8Array(PciSubmitResponseType.encode(message).finish());
}

/** Throws Error with the reason for bytes that are not a PciSubmitResponse with exactly one result. */
export function decodeSubmitResponse(bytes: Uint8Array): SubmitResponse {
  let m: Record<string, unknown>;
  try {
    m = PciSubmitResponseType.decode(bytes) as unknown as Record<string, unknown>;
  } catch (err) {
    throw new Error(`malformed PciSubmitResponse: ${(err as Error).message}`);
  }
  if (Object.hasOwn(m, 'acceptedId')) {
    const id = m['acceptedId'] as Uint8Array;
    if (id.length !== 32) throw new Error(`malformed PciSubmitResponse: accepted_id is ${id.length} bytes, not 32`);
    return { ok: true, id };
  }
  if (Object.hasOwn(m, 'rejected')) {
    const rej = m['rejected'] as Record<string, unknown>;
    const code = Object.hasOwn(rej, 'code') ? String(rej['code']) : '';
    if (code === '') throw new Error('malformed PciSubmitResponse: rejected without a code');
    return { ok: false, code, reason: Object.hasOwn(rej, 'reason') ? String(rej['reason']) : '' };
  }
  throw new Error('malformed PciSubmitResponse: neither accepted_id nor rejected');
}
