/**
 * The state of one PBFT replica and the helpers every part of it uses (persist, send,
 * sign, the log's slots). The protocol is in the replica-*.ts modules, as functions of
 * this state; PbftReplica (replica.ts) owns one and is the only way in from outside.
 */
import type { Ed25519Signer } from '../../protocol/crypto/ed25519.ts';
import { ObjectSlot } from '../../protocol/pbft/object-slot.ts';
import { signPbft, signReplies, type Unsigned } from '../../protocol/pbft/sign.ts';
import type {
  PbftCheckpoint,
  PbftCommit,
  PbftCommitCertificate,
  PbftMessage,
  PbftNewView,
  PbftPrePrepare,
  PbftPrepare,
  PbftPreparedCertificate,
  PbftProposal,
  PbftReply,
  PbftRequest,
  PbftSignedMessage,
  PbftViewChange,
} from '../../protocol/pbft/types.ts';
import { PbftVerifier } from '../../protocol/pbft/verifier.ts';
import type { PbftWalRecord } from '../../protocol/pbft/wal-record.ts';
import type { PbftApp } from './app.ts';
import { NULL_BATCH, NULL_DIGEST } from './new-view.ts';
import { type PbftOptions, resolvePbftOptions } from './options.ts';
import { emptyOutput, type PbftOutputDraft } from './output.ts';
import { primaryOf, sameDigest } from './quorum.ts';
import type { PbftReplicaConfig, PbftReplicaModules } from './replica.ts';
import { type PbftValidatorSet, validatorSet } from './validators.ts';

/** One sequence number's part of the log. */
export interface Slot {
  readonly seq: number;
  /**
   * This view's PRE-PREPARE and its batch. The batch is null while a PRE-PREPARE that a
   * NEW-VIEW re-issued waits for a batch no log here holds (asked of peers in STATUS).
   */
  prePrepare: PbftPrePrepare | null;
  batch: readonly PbftRequest[] | null;
  /** Batches of earlier views' PRE-PREPAREs at this sequence number, by digest (hex): a NEW-VIEW names its batches by digest only. */
  readonly earlierBatches: Map<string, readonly PbftRequest[]>;
  /** This view's votes, by replica. */
  prepares: Map<number, PbftPrepare>;
  commits: Map<number, PbftCommit>;
  /** Prepared in this view (its COMMIT is sent). */
  prepared: boolean;
  /** The highest-view prepared certificate: what a VIEW-CHANGE carries. */
  cert: PbftPreparedCertificate | null;
  /** Set once committed: locally, or by a commit certificate from a peer. */
  committed: PbftCommitCertificate | null;
  /** When this replica, as primary, proposed the slot's batch in this view (its pipeline's latency). */
  proposedAtMs: number | null;
}

export interface ClientEntry {
  readonly client: Uint8Array;
  readonly timestamp: number;
  readonly result: Uint8Array;
  /** Where it was executed; null when it came from a state-transfer snapshot. */
  readonly seq: number | null;
  /**
   * The signed REPLY (from its batch's tree, or alone), re-sent on retransmission;
   * re-signed alone when the view moved. Null until one is read.
   */
  reply: PbftReply | null;
}

export interface Pending {
  readonly request: PbftRequest;
  readonly key: string;
  /** Its client's hex id (the key's first part). */
  readonly id: string;
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
/** A request's key in the pending and proposed maps, from its client's hex id. */
export const requestKeyOf = (clientId: string, timestamp: number): string => `${clientId}:${timestamp}`;
export const requestKey = (r: PbftRequest): string => requestKeyOf(hex(r.client), r.timestamp);

/** Each request's client id (hex) and request key, in batch order. */
export interface BatchIds {
  readonly ids: readonly string[];
  readonly keys: readonly string[];
}

const batchIdSlot = new ObjectSlot<readonly PbftRequest[], BatchIds>('bizra.pbft.batchIds');

/**
 * The client ids and request keys of a batch, made once per batch array and kept on it
 * (batches are read-only): a backup needs them when it takes the proposal (the pending
 * set) and again when it executes the batch (the client table, and the pending and
 * proposed sets), and a hex id and a key per request each time showed in the allocation
 * profile of every replica at saturation. Values of the batch alone, so replicas sharing
 * one batch object (the simulator) share them too.
 */
export function batchIds(batch: readonly PbftRequest[]): BatchIds {
  let memo = batchIdSlot.get(batch);
  if (memo === undefined) {
    const ids = batch.map((r) => hex(r.client));
    memo = { ids, keys: batch.map((r, i) => requestKeyOf(ids[i]!, r.timestamp)) };
    batchIdSlot.set(batch, memo);
  }
  return memo;
}

/** As batchIds, for a batch the primary cut from its pending requests, whose ids and keys it holds already. */
export function rememberBatchIds(batch: readonly PbftRequest[], ids: readonly string[], keys: readonly string[]): void {
  batchIdSlot.set(batch, { ids, keys });
}

export type PbftVoteLike = PbftPrepare | PbftCommit;
/** A proposal or vote of the view a replica is entering, held until its NEW-VIEW is installed. */
export type EarlyMessage = PbftProposal | PbftPrepare | PbftCommit;

export class ReplicaCore {
  readonly id: number;
  readonly validators: PbftValidatorSet;
  readonly opts: PbftOptions;
  readonly signer: Ed25519Signer;
  readonly app: PbftApp;
  readonly verifier: PbftVerifier;
  view = 0;
  active = true;
  /** Low watermark: the stable checkpoint. */
  h = 0;
  stableProof: readonly PbftCheckpoint[] = [];
  stableSnapshot: Uint8Array | null = null;
  lastExec = 0;
  /** The primary's next sequence number. */
  nextSeq = 1;
  readonly slots = new Map<number, Slot>();
  readonly clients = new Map<string, ClientEntry>();
  /** Requests known and not yet executed, in arrival order. */
  readonly pending = new Map<string, Pending>();
  /** The primary's requests waiting for a batch (keys of pending), and those already proposed in this view. */
  queue: string[] = [];
  readonly proposed = new Set<string>();
  /** CHECKPOINTs above h, by sequence then replica. */
  readonly checkpoints = new Map<number, Map<number, PbftCheckpoint>>();
  /** This replica's checkpoints: state digest and snapshot bytes, by sequence. */
  readonly ownCheckpoints = new Map<number, { digest: Uint8Array; snapshot: Uint8Array }>();
  /** Each replica's latest VIEW-CHANGE. */
  readonly viewChanges = new Map<number, PbftViewChange>();
  myViewChange: PbftViewChange | null = null;
  /** The NEW-VIEW of the view this replica is active in, and the VIEW-CHANGEs it names (none after recovery from the WAL). */
  newView: PbftNewView | null = null;
  newViewChanges: readonly PbftViewChange[] = [];
  /**
   * NEW-VIEWs, each signed by its view's primary, that name VIEW-CHANGEs this replica does
   * not hold yet (it asks for them in its STATUS), by view: one per view, for the next n
   * views at most. One slot for all would let a faulty primary of a later view push out,
   * again and again, the NEW-VIEW a correct one sent.
   */
  readonly pendingNewViews = new Map<number, PbftNewView>();
  /**
   * Checked proposals and votes of `view` that came while this replica waited for its
   * NEW-VIEW, in arrival order, and how many of each sender: handled once it is installed
   * (replica-normal-case.ts, holdEarly). Dropped when the view moves on (leaveView).
   */
  early: EarlyMessage[] = [];
  readonly earlyCount = new Map<number, number>();
  /** Votes this replica signed, `${type}:${view}:${seq}`: never sign a different one. */
  readonly signed = new Map<string, PbftPrePrepare | PbftPrepare | PbftCommit>();
  /** View changes since this replica last caught up (executed with nothing left pending): the timeout is base * 2^attempts. */
  attempts = 0;
  viewChangeDeadline: number | null = null;
  batchDeadline: number | null = null;
  /** A partial batch's delay ran out while the pipeline was full: cut it once a batch executes. */
  batchDue = false;
  /**
   * The primary's bound on batches in flight, at most opts.maxBatchesInFlight: halved when
   * a batch executes later than a quarter of the base view-change timeout after its
   * proposal, grown by one per round otherwise (replica-pipeline.ts). A fraction keeps the
   * additive growth's progress; the bound is its floor.
   */
  pipelineWindow: number;
  /** The last sequence number in flight when the window was last halved: one halving per round. */
  pipelineCutSeq = 0;
  /** When this replica last re-sent its NEW-VIEW or VIEW-CHANGE to each peer, and for which view. */
  readonly viewResentAt = new Map<number, { view: number; atMs: number }>();
  /** When this replica last sent each peer the VIEW-CHANGEs its STATUS listed as missing. */
  readonly viewChangesSentAt = new Map<number, number>();
  /** Each peer's lastExecuted in its previous STATUS: unchanged means it is stuck. */
  readonly peerExecuted = new Map<number, number>();
  /** The highest checkpoint known to be stable somewhere, and when this replica last asked for it. */
  knownStable = 0;
  fetchAskedAt = Number.NEGATIVE_INFINITY;
  now = 0;
  out: PbftOutputDraft = emptyOutput();
  /** True while recover() re-executes the log: nothing is sent, persisted or reported. */
  replaying = false;

  constructor(config: PbftReplicaConfig, opts: Partial<PbftOptions>, modules: PbftReplicaModules) {
    this.validators = validatorSet(config.validators);
    if (!Number.isSafeInteger(config.id) || config.id < 0 || config.id >= this.validators.n) {
      throw new RangeError(`replica id ${config.id} is not an index of the ${this.validators.n} validators`);
    }
    if (!sameDigest(modules.signer.publicKey, this.validators.keys[config.id]!)) {
      throw new RangeError(`the signer's key is not validator ${config.id}'s`);
    }
    this.id = config.id;
    this.opts = resolvePbftOptions(opts);
    this.pipelineWindow = this.opts.maxBatchesInFlight;
    this.signer = modules.signer;
    this.app = modules.app;
    this.verifier = modules.verifier ?? new PbftVerifier();
  }

  get primary(): number {
    return primaryOf(this.view, this.validators.n);
  }

  get isPrimary(): boolean {
    return this.primary === this.id;
  }

  // ---- output helpers ------------------------------------------------------------------

  persist(r: PbftWalRecord): void {
    if (!this.replaying) this.out.persist.push(r);
  }

  send(to: number | 'all', message: PbftMessage): void {
    if (!this.replaying) this.out.send.push({ to, message });
  }

  sign<M extends PbftSignedMessage>(unsigned: Unsigned<M>): M {
    return signPbft<M>(unsigned, this.signer);
  }

  /** The REPLYs to `entries` (executed together, in order) in `view`, under one signature. */
  signReplies(view: number, entries: readonly ClientEntry[]): PbftReply[] {
    return signReplies(entries, view, this.id, this.signer);
  }

  /**
   * Signs a vote unless this replica signed a different one for the same (type, view,
   * seq): then null. Returns the earlier vote if it is the same one.
   */
  signVote<M extends PbftPrePrepare | PbftPrepare | PbftCommit>(
    type: M['type'],
    view: number,
    seq: number,
    digest: Uint8Array,
  ): M | null {
    const key = `${type}:${view}:${seq}`;
    const earlier = this.signed.get(key);
    if (earlier !== undefined) {
      if (sameDigest(earlier.digest, digest)) return earlier as M;
      this.out.events.push({ kind: 'refused-conflicting-vote', what: key });
      return null;
    }
    const vote = this.sign<M>({ type, view, seq, digest, replica: this.id } as Unsigned<M>);
    this.signed.set(key, vote);
    return vote;
  }

  slot(seq: number): Slot {
    let s = this.slots.get(seq);
    if (s === undefined) {
      s = {
        seq,
        prePrepare: null,
        batch: null,
        earlierBatches: new Map(),
        prepares: new Map(),
        commits: new Map(),
        prepared: false,
        cert: null,
        committed: null,
        proposedAtMs: null,
      };
      this.slots.set(seq, s);
    }
    return s;
  }

  /** A batch with `digest` this replica holds for `seq`, from any view or its log, or null. */
  knownBatch(seq: number, digest: Uint8Array): readonly PbftRequest[] | null {
    if (sameDigest(digest, NULL_DIGEST)) return NULL_BATCH;
    const slot = this.slots.get(seq);
    if (slot === undefined) return null;
    if (slot.batch !== null && slot.prePrepare !== null && sameDigest(slot.prePrepare.digest, digest))
      return slot.batch;
    if (slot.cert !== null && sameDigest(slot.cert.prePrepare.digest, digest)) return slot.cert.batch;
    if (slot.committed !== null && sameDigest(slot.committed.commits[0]!.digest, digest)) return slot.committed.batch;
    return slot.earlierBatches.get(hex(digest)) ?? null;
  }

  inWindow(seq: number): boolean {
    return seq > this.h && seq <= this.h + this.opts.logWindow;
  }

  timeoutMs(): number {
    return Math.min(this.opts.viewChangeTimeoutMs * 2 ** this.attempts, this.opts.maxViewChangeTimeoutMs);
  }
}
