/**
 * Reject codes of the PCI protocol: R001-R005 from the seed (§4.6), R006 and R007
 * added by the wire-protocol issue. Codes are part of the protocol (peers and clients
 * see them in PciReject.code); names and meanings are for people. Never renumber.
 */
export const REJECT_CODES = {
  R001: { name: 'TTL_EXPIRED', meaning: 'the envelope is past timestamp + ttl' },
  R002: { name: 'INVALID_SIGNATURE', meaning: 'the signature does not verify against the sender public key' },
  R003: { name: 'IHSAN_BELOW_THRESHOLD', meaning: 'ihsan_score is below the policy threshold (default 0.95)' },
  R004: { name: 'SNR_BELOW_THRESHOLD', meaning: 'snr_score is below the policy threshold (default 0.85)' },
  R005: {
    name: 'MALFORMED_ENVELOPE',
    meaning:
      'not a well-formed, canonically encoded envelope: too large, undecodable, a field missing or out of range, unknown or duplicate fields',
  },
  R006: { name: 'REPLAYED', meaning: 'an envelope with the same id was already accepted and has not expired' },
  R007: { name: 'FROM_FUTURE', meaning: 'the timestamp is further ahead of the receiver clock than the allowed skew' },
} as const;

export type RejectCode = keyof typeof REJECT_CODES;
export type RejectName = (typeof REJECT_CODES)[RejectCode]['name'];

export function isRejectCode(code: unknown): code is RejectCode {
  return typeof code === 'string' && Object.hasOwn(REJECT_CODES, code);
}

/** The codes in order, for compact encodings (index + 1 is the code's number). */
export const REJECT_CODE_LIST: readonly RejectCode[] = Object.freeze(Object.keys(REJECT_CODES) as RejectCode[]);
