/**
 * PBFT messages as decoded objects (the `Pbft*` messages of proto/bizra.proto). The
 * replica works on these; `codec.ts` turns them into canonical bytes and back.
 *
 * Byte fields may be views into a received buffer: treat every message as read-only
 * (the simulator hands one object to many replicas). `view`, `seq`, `timestamp` are
 * integers from 0 to 2^53 - 1; `replica` is an index into the validator set.
 */

/** A client's signed request. `client` is its raw 32-byte Ed25519 public key. */
export interface PbftRequest {
  readonly type: 'request';
  readonly client: Uint8Array;
  readonly timestamp: number;
  readonly operation: Uint8Array;
  readonly signature: Uint8Array;
}

/** PRE-PREPARE, PREPARE and COMMIT share a body (PbftVoteBody); the domain tag differs. */
export interface PbftVoteFields {
  readonly view: number;
  readonly seq: number;
  /** The batch digest: domainDigest('bizra/pbft/batch/v1', canonical PbftBatch). */
  readonly digest: Uint8Array;
  readonly replica: number;
  readonly signature: Uint8Array;
}

export interface PbftPrePrepare extends PbftVoteFields {
  readonly type: 'pre-prepare';
}
export interface PbftPrepare extends PbftVoteFields {
  readonly type: 'prepare';
}
export interface PbftCommit extends PbftVoteFields {
  readonly type: 'commit';
}

/** The primary's PRE-PREPARE with the batch it names. */
export interface PbftProposal {
  readonly type: 'proposal';
  readonly prePrepare: PbftPrePrepare;
  readonly batch: readonly PbftRequest[];
}

export interface PbftCheckpoint {
  readonly type: 'checkpoint';
  readonly seq: number;
  readonly stateDigest: Uint8Array;
  readonly replica: number;
  readonly signature: Uint8Array;
}

/** A PRE-PREPARE, its batch and 2f matching PREPAREs from distinct backups. */
/** A prepared certificate without its batch (the PRE-PREPARE names it by digest): what a VIEW-CHANGE carries. */
export interface PbftPreparedProof {
  readonly prePrepare: PbftPrePrepare;
  readonly prepares: readonly PbftPrepare[];
}

/** The PRE-PREPARE, its batch and 2f matching PREPAREs: what a replica logs once prepared. */
export interface PbftPreparedCertificate extends PbftPreparedProof {
  readonly batch: readonly PbftRequest[];
}

export interface PbftViewChange {
  readonly type: 'view-change';
  readonly newView: number;
  readonly checkpointSeq: number;
  readonly checkpointProof: readonly PbftCheckpoint[];
  readonly prepared: readonly PbftPreparedProof[];
  readonly replica: number;
  readonly signature: Uint8Array;
}

/** A VIEW-CHANGE named by its signer and the digest its signature covers (signedDigest). */
export interface PbftViewChangeRef {
  readonly replica: number;
  readonly digest: Uint8Array;
}

/** Names its 2f+1 VIEW-CHANGEs by digest: every replica holds them already (proto/bizra.proto). */
export interface PbftNewView {
  readonly type: 'new-view';
  readonly view: number;
  readonly viewChanges: readonly PbftViewChangeRef[];
  readonly prePrepares: readonly PbftPrePrepare[];
  readonly replica: number;
  readonly signature: Uint8Array;
}

/**
 * Where a REPLY's leaf sits in the reply tree of its batch (protocol/pbft/reply-tree.ts):
 * leaf `index` of `count`, and the sibling hashes from the leaf up to the root.
 */
export interface PbftReplyProof {
  readonly index: number;
  readonly count: number;
  readonly siblings: readonly Uint8Array[];
}

/**
 * The result of one client's request. `signature` is the replica's signature of the
 * batch's reply root (PbftReplyRootBody: view, replica, count, root), shared by every
 * REPLY of that batch; `proof` leads from this reply's leaf to that root.
 */
export interface PbftReply {
  readonly type: 'reply';
  readonly view: number;
  readonly timestamp: number;
  readonly client: Uint8Array;
  readonly replica: number;
  readonly result: Uint8Array;
  readonly proof: PbftReplyProof;
  readonly signature: Uint8Array;
}

/** What a leaf of a reply tree covers: one client's result (PbftReplyLeaf). */
export interface PbftReplyLeaf {
  readonly client: Uint8Array;
  readonly timestamp: number;
  readonly result: Uint8Array;
}

/** What a replica signs for the replies of one batch (PbftReplyRootBody). */
export interface PbftReplyRoot {
  readonly view: number;
  readonly replica: number;
  readonly count: number;
  readonly root: Uint8Array;
}

export interface PbftStatus {
  readonly type: 'status';
  readonly view: number;
  /** False while the replica waits for the NEW-VIEW of `view`. */
  readonly active: boolean;
  readonly lastExecuted: number;
  readonly stableCheckpoint: number;
  /** Sequence numbers (increasing) whose PRE-PREPARE of this view it holds without the batch. */
  readonly missingBatches: readonly number[];
  /** Replicas (increasing) whose VIEW-CHANGE the NEW-VIEW of `view` it holds names, and it lacks. */
  readonly missingViewChanges: readonly number[];
  /** What it holds of the sequence numbers in progress above lastExecuted (increasing). */
  readonly slots: readonly PbftStatusSlot[];
  readonly replica: number;
  readonly signature: Uint8Array;
}

/** One sequence number in progress at a STATUS's sender: what it holds of it in its view. */
export interface PbftStatusSlot {
  readonly seq: number;
  /** Holds the view's PRE-PREPARE with its batch. */
  readonly prePrepared: boolean;
  /** Bitmaps over the validators (bit i % 8 of byte i / 8: replica i's PREPARE, COMMIT); no trailing zero bytes. */
  readonly prepares: Uint8Array;
  readonly commits: Uint8Array;
}

/** Unsigned: 2f+1 COMMITs for one (view, seq) naming the batch's digest. */
export interface PbftCommitCertificate {
  readonly type: 'commit-certificate';
  readonly batch: readonly PbftRequest[];
  readonly commits: readonly PbftCommit[];
}

/** Unsigned: 2f+1 CHECKPOINTs whose state digest is the snapshot's. */
export interface PbftStateTransfer {
  readonly type: 'state-transfer';
  readonly proof: readonly PbftCheckpoint[];
  /** Canonical PbftStateSnapshot bytes. */
  readonly snapshot: Uint8Array;
}

/** One frame on the PBFT stream protocol. */
export type PbftMessage =
  | PbftRequest
  | PbftProposal
  | PbftPrepare
  | PbftCommit
  | PbftCheckpoint
  | PbftViewChange
  | PbftNewView
  | PbftReply
  | PbftStatus
  | PbftCommitCertificate
  | PbftStateTransfer;

/** The messages that carry one signature of their own. */
export type PbftSignedMessage =
  | PbftRequest
  | PbftPrePrepare
  | PbftPrepare
  | PbftCommit
  | PbftCheckpoint
  | PbftViewChange
  | PbftNewView
  | PbftReply
  | PbftStatus;

/** One entry of the exactly-once table. */
export interface PbftClientRecord {
  readonly client: Uint8Array;
  readonly timestamp: number;
  readonly result: Uint8Array;
}

/** What a checkpoint's state digest covers. */
export interface PbftStateSnapshot {
  readonly appState: Uint8Array;
  /** Sorted by client key (bytewise), no duplicates. */
  readonly clients: readonly PbftClientRecord[];
}
