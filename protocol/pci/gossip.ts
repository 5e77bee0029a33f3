/**
 * How a gossip validator should treat a verification result. Gossipsub lowers the
 * score of a peer that forwards a Reject, so Reject is kept for what an honest relay,
 * which verified before forwarding, can never send. Whatever honest nodes can
 * disagree on (their clocks, their configurable thresholds and limits) and
 * duplicates are Ignore: dropped, not forwarded, no penalty.
 */
import type { VerifyResult } from './verify.ts';

export type GossipVerdict = 'accept' | 'ignore' | 'reject';

export function pciGossipVerdict(result: VerifyResult): GossipVerdict {
  if (result.ok) return 'accept';
  switch (result.code) {
    case 'R002': // a bad signature is bad for everyone
      return 'reject';
    case 'R005': // malformed for everyone, unless only this node's limits refused it
      return result.local ? 'ignore' : 'reject';
    default: // R001, R007: clocks; R003, R004: per-node thresholds; R006: a duplicate
      return 'ignore';
  }
}
