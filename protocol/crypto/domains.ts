/**
 * Domain tags: the one table of them. Every signature and every protocol hash covers
 * BLAKE3(utf8(tag) || 0x00 || bytes), so bytes signed for one purpose can never be
 * replayed as valid for another (a PCI body as a consensus vote, say), even where the
 * two encodings happen to coincide.
 *
 * Rules: a tag is `bizra/<purpose>/v<N>` in lowercase ASCII with no NUL (the 0x00 that
 * ends it must be unambiguous); a tag is never reused for other bytes, and a change
 * to what is signed gets a new version. protocol/README.md copies this table and a
 * test keeps the copy current.
 */
export const DOMAINS = {
  /** EnvelopeBody of a PCI envelope: its Ed25519 signature and its id. */
  PCI_ENVELOPE: 'bizra/pci/v1',
  /** HeartbeatBody of a membership heartbeat: its Ed25519 signature. */
  HEARTBEAT: 'bizra/heartbeat/v1',
  /** PbftRequestBody: a client's signature on its request. */
  PBFT_REQUEST: 'bizra/pbft/request/v1',
  /** PbftBatch: the batch digest that PRE-PREPARE, PREPARE and COMMIT name. */
  PBFT_BATCH: 'bizra/pbft/batch/v1',
  /** PbftVoteBody of a PRE-PREPARE: the primary's signature. */
  PBFT_PRE_PREPARE: 'bizra/pbft/preprepare/v1',
  /** PbftVoteBody of a PREPARE. */
  PBFT_PREPARE: 'bizra/pbft/prepare/v1',
  /** PbftVoteBody of a COMMIT. */
  PBFT_COMMIT: 'bizra/pbft/commit/v1',
  /** PbftCheckpointBody. */
  PBFT_CHECKPOINT: 'bizra/pbft/checkpoint/v1',
  /** PbftStateSnapshot: the state digest a CHECKPOINT names. */
  PBFT_STATE: 'bizra/pbft/state/v1',
  /**
   * PbftViewChangeBody (v1 carried whole prepared certificates, batches included; retired,
   * nothing released used it).
   */
  PBFT_VIEW_CHANGE: 'bizra/pbft/viewchange/v2',
  /** PbftNewViewBody. */
  PBFT_NEW_VIEW: 'bizra/pbft/newview/v2',
  /**
   * PbftReplyRootBody: a replica's one signature on the replies of an executed batch
   * (v1 signed each PbftReplyBody alone; retired, nothing released used it).
   */
  PBFT_REPLY_ROOT: 'bizra/pbft/reply/v2',
  /** PbftReplyLeaf: one client's result, a leaf of a batch's reply tree. */
  PBFT_REPLY_LEAF: 'bizra/pbft/reply-leaf/v1',
  /** Two child hashes (left || right): an interior node of a batch's reply tree. */
  PBFT_REPLY_NODE: 'bizra/pbft/reply-node/v1',
  /** PbftStatusBody: a replica's periodic progress report. */
  PBFT_STATUS: 'bizra/pbft/status/v1',
} as const;

export type DomainTag = (typeof DOMAINS)[keyof typeof DOMAINS];

/** What each tag covers, in the words of protocol/README.md's table. */
export const DOMAIN_DESCRIPTIONS: Readonly<Record<DomainTag, string>> = Object.freeze({
  'bizra/pci/v1': 'PCI envelope: the canonical `EnvelopeBody` bytes (signature and envelope id)',
  'bizra/heartbeat/v1': 'Membership heartbeat: the canonical `HeartbeatBody` bytes (signature)',
  'bizra/pbft/request/v1': 'PBFT request: the canonical `PbftRequestBody` bytes (client signature)',
  'bizra/pbft/batch/v1': 'PBFT batch digest: the canonical `PbftBatch` bytes (named by PRE-PREPARE, PREPARE, COMMIT)',
  'bizra/pbft/preprepare/v1': 'PBFT PRE-PREPARE: the canonical `PbftVoteBody` bytes (primary signature)',
  'bizra/pbft/prepare/v1': 'PBFT PREPARE: the canonical `PbftVoteBody` bytes (signature)',
  'bizra/pbft/commit/v1': 'PBFT COMMIT: the canonical `PbftVoteBody` bytes (signature)',
  'bizra/pbft/checkpoint/v1': 'PBFT CHECKPOINT: the canonical `PbftCheckpointBody` bytes (signature)',
  'bizra/pbft/state/v1': 'PBFT state digest: the canonical `PbftStateSnapshot` bytes (named by CHECKPOINT)',
  'bizra/pbft/viewchange/v2':
    'PBFT VIEW-CHANGE: the canonical `PbftViewChangeBody` bytes, prepared certificates without their batches (signature)',
  'bizra/pbft/newview/v2':
    'PBFT NEW-VIEW: the canonical `PbftNewViewBody` bytes, its VIEW-CHANGEs named by digest (signature)',
  'bizra/pbft/reply/v2':
    "PBFT REPLY: the canonical `PbftReplyRootBody` bytes (one signature over the root of an executed batch's reply tree)",
  'bizra/pbft/reply-leaf/v1': "PBFT reply tree leaf: the canonical `PbftReplyLeaf` bytes (one client's result)",
  'bizra/pbft/reply-node/v1': 'PBFT reply tree node: the left and right child hashes, 32 bytes each',
  'bizra/pbft/status/v1': 'PBFT status: the canonical `PbftStatusBody` bytes (signature)',
});
