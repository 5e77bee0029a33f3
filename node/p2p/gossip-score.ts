/**
 * gossipsub peer scoring. Only the PCI topic carries a score so far, and only
 * for invalid messages (P4): a peer that relays envelopes our validator
 * Rejects (bad signature, malformed) loses 10 x (count^2) points, decaying
 * 10 % a second. Three such messages take it below gossipsub's graylist
 * threshold (-80), after which its messages are dropped unread; any negative
 * score already keeps it out of our mesh. Clock- and threshold-dependent
 * rejections are Ignored, not Rejected, and cost nothing (protocol/pci/gossip.ts).
 */
import { createTopicScoreParams, type PeerScoreParams } from '@libp2p/gossipsub/score';
import { PCI_TOPIC } from '../../protocol/topics.ts';

export const INVALID_MESSAGE_WEIGHT = -10;

export function gossipScoreParams(testnet: boolean): Partial<PeerScoreParams> {
  return {
    topics: {
      [PCI_TOPIC]: createTopicScoreParams({
        topicWeight: 1,
        timeInMeshWeight: 0,
        firstMessageDeliveriesWeight: 0,
        meshMessageDeliveriesWeight: 0,
        meshFailurePenaltyWeight: 0,
        invalidMessageDeliveriesWeight: INVALID_MESSAGE_WEIGHT,
        invalidMessageDeliveriesDecay: 0.9,
      }),
    },
    // Hundreds of testnet nodes share 127.0.0.1; the colocation penalty would score them all down.
    ...(testnet ? { IPColocationFactorWeight: 0 } : {}),
  };
}
