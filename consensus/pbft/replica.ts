/**
 * A PBFT replica (Castro & Liskov, OSDI '99, the signature variant), pure: no clock, no
 * timers, no sockets, no disk. Every call takes the time and returns what to persist,
 * send, reply, schedule and what committed (output.ts says in which order the shell
 * must carry it out). Messages arrive as decoded objects (protocol/pbft): the shell
 * decodes frames with decodePbftMessage and passes them to `receive`.
 *
 * Normal case: REQUEST -> PRE-PREPARE (a batch) -> PREPARE -> COMMIT -> execute in
 * sequence order -> REPLY. Checkpoints every K sequence numbers; 2f+1 matching
 * CHECKPOINTs make one stable, move the low watermark h and garbage-collect the log.
 * View change: a backup whose pending request does not execute in time sends a
 * VIEW-CHANGE; the new primary's NEW-VIEW re-issues what may have committed. STATUS
 * messages at an interval let peers re-send what was lost: the NEW-VIEW, VIEW-CHANGEs,
 * commit certificates of executed batches, a state transfer (the stable checkpoint's
 * snapshot and proof) for a replica below the stable checkpoint, and lost votes.
 */

import type { Ed25519Signer } from '../../protocol/crypto/ed25519.ts';
import { decodeSnapshot, encodeSnapshot } from '../../protocol/pbft/codec.ts';
import { signPbft, stateDigest, type Unsigned } from '../../protocol/pbft/sign.ts';
import { pbftStructureProblem } from '../../protocol/pbft/structure.ts';
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
  PbftStateTransfer,
  PbftStatus,
  PbftViewChange,
} from '../../protocol/pbft/types.ts';
import { PbftVerifier } from '../../protocol/pbft/verifier.ts';
import type { PbftWalRecord } from '../../protocol/pbft/wal-record.ts';
import type { PbftApp } from './app.ts';
import { type NewViewPlan, planNewView } from './new-view.ts';
import { type PbftOptions, resolvePbftOptions } from './options.ts';
import {
  ACCEPTED,
  emptyOutput,
  type PbftOutcome,
  type PbftOutput,
  type PbftReceiveResult,
  type PbftTimer,
  reject,
} from './output.ts';
import { isCommittedLocal, isPrepared, matchingVoters, primaryOf, sameDigest } from './quorum.ts';
import {
  checkBatch,
  checkCheckpointProof,
  checkCommitCertificate,
  checkReplicaSignature,
  checkViewChange,
  type Problem,
} from './validate.ts';
import { type PbftValidatorSet, validatorSet } from './validators.ts';

export interface PbftReplicaConfig {
  /** The validators' public keys; replica i is validators[i]. */
  readonly validators: readonly Uint8Array[];
  /** This replica's index. */
  readonly id: number;
}

export interface PbftReplicaModules {
  /** This replica's key: its public key must be validators[id]. */
  readonly signer: Ed25519Signer;
  /** The application, in its initial state (recover restores it from the log). */
  readonly app: PbftApp;
  /** May be shared by every replica of a process (the simulator does). */
  readonly verifier?: PbftVerifier;
}

/** What the HTTP API and metrics show. */
export interface PbftReplicaStatus {
  readonly id: number;
  readonly view: number;
  readonly active: boolean;
  readonly primary: number;
  readonly lastExecuted: number;
  readonly stableCheckpoint: number;
  readonly pendingRequests: number;
  readonly validators: number;
  readonly f: number;
}

/** One sequence number's part of the log. */
interface Slot {
  readonly seq: number;
  /** This view's PRE-PREPARE and its batch. */
  prePrepare: PbftPrePrepare | null;
  batch: readonly PbftRequest[] | null;
  /** This view's votes, by replica. */
  prepares: Map<number, PbftPrepare>;
  commits: Map<number, PbftCommit>;
  /** Prepared in this view (its COMMIT is sent). */
  prepared: boolean;
  /** The highest-view prepared certificate: what a VIEW-CHANGE carries. */
  cert: PbftPreparedCertificate | null;
  /** Set once committed: locally, or by a commit certificate from a peer. */
  committed: PbftCommitCertificate | null;
}

interface ClientEntry {
  readonly client: Uint8Array;
  readonly timestamp: number;
  readonly result: Uint8Array;
  /** The signed REPLY, re-sent on retransmission (re-signed when the view moved). */
  reply: PbftReply | null;
}

interface Pending {
  readonly request: PbftRequest;
  readonly key: string;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
const requestKey = (r: PbftRequest): string => `${hex(r.client)}:${r.timestamp}`;

export class PbftReplica {
  readonly id: number;
  readonly validators: PbftValidatorSet;
  readonly opts: PbftOptions;
  readonly #signer: Ed25519Signer;
  readonly #app: PbftApp;
  readonly #verifier: PbftVerifier;

  #view = 0;
  #active = true;
  /** Low watermark: the stable checkpoint. */
  #h = 0;
  #stableProof: readonly PbftCheckpoint[] = [];
  #stableSnapshot: Uint8Array | null = null;
  #lastExec = 0;
  /** The primary's next sequence number. */
  #nextSeq = 1;
  readonly #slots = new Map<number, Slot>();
  readonly #clients = new Map<string, ClientEntry>();
  /** Requests known and not yet executed, in arrival order. */
  readonly #pending = new Map<string, Pending>();
  /** The primary's requests waiting for a batch (keys of #pending), and those already proposed in this view. */
  #queue: string[] = [];
  readonly #proposed = new Set<string>();
  /** CHECKPOINTs above h, by sequence then replica. */
  readonly #checkpoints = new Map<number, Map<number, PbftCheckpoint>>();
  /** This replica's checkpoints: state digest and snapshot bytes, by sequence. */
  readonly #ownCheckpoints = new Map<number, { digest: Uint8Array; snapshot: Uint8Array }>();
  /** Each replica's latest VIEW-CHANGE. */
  readonly #viewChanges = new Map<number, PbftViewChange>();
  #myViewChange: PbftViewChange | null = null;
  #newView: PbftNewView | null = null;
  /** Votes this replica signed, `${type}:${view}:${seq}`: never sign a different one. */
  readonly #signed = new Map<string, PbftPrePrepare | PbftPrepare | PbftCommit>();
  /** Consecutive view changes without progress: the timeout is base * 2^attempts. */
  #attempts = 0;
  #viewChangeDeadline: number | null = null;
  #batchDeadline: number | null = null;
  /** Each peer's lastExecuted in its previous STATUS: unchanged means it is stuck. */
  readonly #peerExecuted = new Map<number, number>();
  /** The highest checkpoint known to be stable somewhere, and when this replica last asked for it. */
  #knownStable = 0;
  #fetchAskedAt = Number.NEGATIVE_INFINITY;

  #now = 0;
  #out: PbftOutput = emptyOutput();
  /** True while recover() re-executes the log: nothing is sent, persisted or reported. */
  #replaying = false;

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
    this.#signer = modules.signer;
    this.#app = modules.app;
    this.#verifier = modules.verifier ?? new PbftVerifier();
  }

  // ---- inspection ----------------------------------------------------------------------

  get view(): number {
    return this.#view;
  }
  get active(): boolean {
    return this.#active;
  }
  get primary(): number {
    return primaryOf(this.#view, this.validators.n);
  }
  get isPrimary(): boolean {
    return this.primary === this.id;
  }
  get lastExecuted(): number {
    return this.#lastExec;
  }
  get stableCheckpoint(): number {
    return this.#h;
  }

  status(): PbftReplicaStatus {
    return {
      id: this.id,
      view: this.#view,
      active: this.#active,
      primary: this.primary,
      lastExecuted: this.#lastExec,
      stableCheckpoint: this.#h,
      pendingRequests: this.#pending.size,
      validators: this.validators.n,
      f: this.validators.f,
    };
  }

  /** This replica's state digest at checkpoint `seq`, while it keeps it. */
  checkpointDigest(seq: number): Uint8Array | undefined {
    return this.#ownCheckpoints.get(seq)?.digest;
  }

  /** The digest of the current state (application and client table), for checkers. */
  stateDigest(): Uint8Array {
    return stateDigest(this.#snapshotBytes());
  }

  // ---- entry points --------------------------------------------------------------------

  /** Call once after construction or recover: starts the STATUS timer and announces this replica. */
  start(nowMs: number): PbftOutput {
    return this.#run(nowMs, () => {
      this.#broadcastStatus();
      this.#armNewViewTimer();
      if (this.isPrimary && this.#active) this.#propose(true);
    });
  }

  /** Handles one message (from a validator or, for a REQUEST, a client). */
  receive(message: PbftMessage, nowMs: number): PbftReceiveResult {
    let outcome: PbftOutcome = ACCEPTED;
    const out = this.#run(nowMs, () => {
      outcome = this.#dispatch(message);
    });
    return { ...out, outcome };
  }

  /** A timer set by an earlier output fired. Stale firings (re-set or cancelled since) do nothing. */
  onTimer(timer: PbftTimer, nowMs: number): PbftOutput {
    return this.#run(nowMs, () => {
      if (timer === 'status') {
        this.#broadcastStatus();
      } else if (timer === 'batch') {
        if (this.#batchDeadline !== null && nowMs >= this.#batchDeadline) {
          this.#batchDeadline = null;
          this.#propose(true);
        }
      } else if (this.#viewChangeDeadline !== null && nowMs >= this.#viewChangeDeadline) {
        this.#viewChangeDeadline = null;
        this.#out.timers.push({ timer: 'view-change', atMs: null });
        // Active: a request waited too long, suspect the primary (nothing pending, no
        // reason to). Waiting for a NEW-VIEW: 2f+1 replicas are here and the new primary
        // did not deliver, so try the next one.
        if (!this.#active || this.#pending.size > 0) this.#startViewChange(this.#view + 1);
      }
    });
  }

  #run(nowMs: number, body: () => void): PbftOutput {
    if (!Number.isFinite(nowMs)) throw new TypeError(`nowMs must be a finite number, got ${nowMs}`);
    this.#now = nowMs;
    this.#out = emptyOutput();
    body();
    return this.#out;
  }

  #dispatch(m: PbftMessage): PbftOutcome {
    const structure = pbftStructureProblem(m);
    if (structure !== null) return reject('malformed', structure);
    switch (m.type) {
      case 'request':
        return this.#onRequest(m);
      case 'proposal':
        return this.#onProposal(m);
      case 'prepare':
      case 'commit':
        return this.#onVote(m);
      case 'checkpoint':
        return this.#onCheckpoint(m);
      case 'view-change':
        return this.#onViewChange(m);
      case 'new-view':
        return this.#onNewView(m);
      case 'status':
        return this.#onStatus(m);
      case 'commit-certificate':
        return this.#onCommitCertificate(m);
      case 'state-transfer':
        return this.#onStateTransfer(m);
      case 'reply':
        return reject('unexpected', 'replicas do not take replies');
    }
  }

  // ---- output helpers ------------------------------------------------------------------

  #persist(r: PbftWalRecord): void {
    if (!this.#replaying) this.#out.persist.push(r);
  }

  #send(to: number | 'all', message: PbftMessage): void {
    if (!this.#replaying) this.#out.send.push({ to, message });
  }

  #sign<M extends PbftSignedMessage>(unsigned: Unsigned<M>): M {
    return signPbft<M>(unsigned, this.#signer);
  }

  /**
   * Signs a vote unless this replica signed a different one for the same (type, view,
   * seq): then null. Returns the earlier vote if it is the same one.
   */
  #signVote<M extends PbftPrePrepare | PbftPrepare | PbftCommit>(
    type: M['type'],
    view: number,
    seq: number,
    digest: Uint8Array,
  ): M | null {
    const key = `${type}:${view}:${seq}`;
    const earlier = this.#signed.get(key);
    if (earlier !== undefined) {
      if (sameDigest(earlier.digest, digest)) return earlier as M;
      this.#out.events.push({ kind: 'refused-conflicting-vote', what: key });
      return null;
    }
    const vote = this.#sign<M>({ type, view, seq, digest, replica: this.id } as Unsigned<M>);
    this.#signed.set(key, vote);
    return vote;
  }

  #slot(seq: number): Slot {
    let s = this.#slots.get(seq);
    if (s === undefined) {
      s = {
        seq,
        prePrepare: null,
        batch: null,
        prepares: new Map(),
        commits: new Map(),
        prepared: false,
        cert: null,
        committed: null,
      };
      this.#slots.set(seq, s);
    }
    return s;
  }

  #inWindow(seq: number): boolean {
    return seq > this.#h && seq <= this.#h + this.opts.logWindow;
  }

  #timeoutMs(): number {
    return Math.min(this.opts.viewChangeTimeoutMs * 2 ** this.#attempts, this.opts.maxViewChangeTimeoutMs);
  }

  /** Active backups only: a pending request must execute before this deadline. */
  #armViewChangeTimer(restart = false): void {
    if (!this.#active || this.isPrimary) return;
    if (this.#viewChangeDeadline !== null && !restart) return;
    this.#viewChangeDeadline = this.#now + this.#timeoutMs();
    this.#out.timers.push({ timer: 'view-change', atMs: this.#viewChangeDeadline });
  }

  /**
   * Waiting for the NEW-VIEW of view v: the timer starts only once 2f+1 replicas (this
   * one included) asked for v or later (Castro & Liskov §4.5.2), so no replica runs ahead
   * to higher views alone: when it gives up on v, a quorum is there to give up with it.
   */
  #armNewViewTimer(): void {
    if (this.#active || this.#viewChangeDeadline !== null) return;
    let asking = 0;
    for (const vc of this.#viewChanges.values()) if (vc.newView >= this.#view) asking++;
    if (asking < this.validators.quorum) return;
    this.#viewChangeDeadline = this.#now + this.#timeoutMs();
    this.#out.timers.push({ timer: 'view-change', atMs: this.#viewChangeDeadline });
  }

  #cancelViewChangeTimer(): void {
    if (this.#viewChangeDeadline === null) return;
    this.#viewChangeDeadline = null;
    this.#out.timers.push({ timer: 'view-change', atMs: null });
  }

  #broadcastStatus(): void {
    const status = this.#sign<PbftStatus>({
      type: 'status',
      view: this.#view,
      active: this.#active,
      lastExecuted: this.#lastExec,
      stableCheckpoint: this.#h,
      replica: this.id,
    });
    this.#send('all', status);
    this.#out.timers.push({ timer: 'status', atMs: this.#now + this.opts.statusIntervalMs });
  }

  // ---- requests and proposals ------------------------------------------------------------

  #onRequest(r: PbftRequest): PbftOutcome {
    if (!this.#verifier.verify(r, r.client)) return reject('bad-signature', 'the client signature does not verify');
    const entry = this.#clients.get(hex(r.client));
    if (entry !== undefined && r.timestamp < entry.timestamp) {
      return reject('stale-request', `timestamp ${r.timestamp} is below the last executed ${entry.timestamp}`);
    }
    if (entry !== undefined && r.timestamp === entry.timestamp) {
      // A retransmission of what already executed: the same result again.
      this.#resendReply(entry);
      return ACCEPTED;
    }
    const key = requestKey(r);
    if (this.#pending.has(key)) {
      if (this.#active && !this.isPrimary) this.#send(this.primary, r);
      return this.isPrimary ? reject('duplicate', 'the request is already pending') : ACCEPTED;
    }
    if (this.#pending.size >= this.opts.maxPendingRequests) {
      return reject('overloaded', `${this.#pending.size} requests are pending`);
    }
    this.#pending.set(key, { request: r, key });
    if (this.#active && this.isPrimary) {
      this.#queue.push(key);
      this.#propose(false);
    } else {
      if (this.#active) this.#send(this.primary, r);
      this.#armViewChangeTimer();
    }
    return ACCEPTED;
  }

  /** Outputs the REPLY to `entry` in the current view; it is signed only if the shell reads it. */
  #resendReply(entry: ClientEntry): void {
    if (this.#replaying) return;
    const view = this.#view;
    const replyIn = (v: number): PbftReply => this.#replyIn(entry, v);
    this.#out.replies.push({
      client: entry.client,
      timestamp: entry.timestamp,
      get message(): PbftReply {
        return replyIn(view);
      },
    });
  }

  /** The signed REPLY to `entry` in `view`, signed once and kept (re-signed when the view moved). */
  #replyIn(entry: ClientEntry, view: number): PbftReply {
    if (entry.reply === null || entry.reply.view !== view) {
      entry.reply = this.#sign<PbftReply>({
        type: 'reply',
        view,
        timestamp: entry.timestamp,
        client: entry.client,
        replica: this.id,
        result: entry.result,
      });
    }
    return entry.reply;
  }

  /** The primary cuts batches: full ones at once, a partial one when forced (its delay ran out). */
  #propose(force: boolean): void {
    if (!this.#active || !this.isPrimary) return;
    this.#queue = this.#queue.filter((k) => this.#pending.has(k) && !this.#proposed.has(k));
    while (this.#queue.length > 0 && this.#nextSeq <= this.#h + this.opts.logWindow) {
      const full = this.#queue.length >= this.opts.batchSize;
      if (!full && !force && this.opts.batchDelayMs > 0) break;
      const keys = this.#queue.splice(0, this.opts.batchSize);
      const batch = keys.map((k) => this.#pending.get(k)!.request);
      const seq = this.#nextSeq;
      const pp = this.#signVote<PbftPrePrepare>('pre-prepare', this.#view, seq, this.#verifier.batchDigest(batch));
      if (pp === null) {
        // This replica proposed something else at `seq` before a crash: skip the number
        // (the earlier proposal still stands) and try the next.
        this.#nextSeq++;
        this.#queue.unshift(...keys);
        continue;
      }
      this.#nextSeq++;
      for (const k of keys) this.#proposed.add(k);
      const slot = this.#slot(seq);
      slot.prePrepare = pp;
      slot.batch = batch;
      const proposal: PbftProposal = { type: 'proposal', prePrepare: pp, batch };
      this.#persist({ kind: 'signed', message: proposal });
      this.#send('all', proposal);
      this.#checkPrepared(slot);
    }
    if (this.#queue.length > 0 && this.#nextSeq <= this.#h + this.opts.logWindow) {
      if (this.#batchDeadline === null) {
        this.#batchDeadline = this.#now + this.opts.batchDelayMs;
        this.#out.timers.push({ timer: 'batch', atMs: this.#batchDeadline });
      }
    } else if (this.#batchDeadline !== null) {
      this.#batchDeadline = null;
      this.#out.timers.push({ timer: 'batch', atMs: null });
    }
  }

  #onProposal(p: PbftProposal): PbftOutcome {
    const pp = p.prePrepare;
    if (pp.view !== this.#view)
      return reject('wrong-view', `pre-prepare for view ${pp.view}; this replica is in ${this.#view}`);
    if (!this.#active) return reject('view-changing', `waiting for the NEW-VIEW of view ${this.#view}`);
    if (pp.replica !== this.primary) {
      return reject(
        'not-primary',
        `pre-prepare from replica ${pp.replica}; the primary of view ${pp.view} is ${this.primary}`,
      );
    }
    if (pp.replica === this.id) return reject('self', 'a pre-prepare of this replica');
    if (!this.#inWindow(pp.seq)) {
      return reject(
        'outside-watermarks',
        `sequence ${pp.seq} is outside (${this.#h}, ${this.#h + this.opts.logWindow}]`,
      );
    }
    const sig = checkReplicaSignature(pp, this.validators, this.#verifier);
    if (sig !== null) return reject(sig.reason, sig.detail);
    const held = this.#slots.get(pp.seq)?.prePrepare;
    if (held != null) {
      return sameDigest(held.digest, pp.digest)
        ? reject('duplicate', `pre-prepare for ${pp.seq} already held`)
        : reject(
            'conflicting-pre-prepare',
            `the primary already proposed another batch at ${pp.seq} in view ${pp.view}`,
          );
    }
    if (p.batch.length > this.opts.batchSize) {
      return reject('oversized-batch', `${p.batch.length} requests; at most ${this.opts.batchSize}`);
    }
    if (!sameDigest(this.#verifier.batchDigest(p.batch), pp.digest)) {
      return reject('wrong-digest', 'the batch does not match the pre-prepare digest');
    }
    const bad = checkBatch(p.batch, this.#verifier);
    if (bad !== null) return reject(bad.reason, bad.detail);
    this.#acceptPrePrepare(pp, p.batch);
    return ACCEPTED;
  }

  /** Logs a PRE-PREPARE (normal case or NEW-VIEW) and, as a backup, sends its PREPARE. */
  #acceptPrePrepare(pp: PbftPrePrepare, batch: readonly PbftRequest[]): void {
    const slot = this.#slot(pp.seq);
    slot.prePrepare = pp;
    slot.batch = batch;
    if (this.isPrimary) {
      for (const r of batch) this.#proposed.add(requestKey(r));
    } else {
      const prepare = this.#signVote<PbftPrepare>('prepare', pp.view, pp.seq, pp.digest);
      if (prepare !== null) {
        slot.prepares.set(this.id, prepare);
        this.#persist({ kind: 'signed', message: prepare });
        this.#send('all', prepare);
      }
      // A request in a proposal that then stalls must still make this backup suspect the primary.
      if (pp.seq > this.#lastExec) this.#trackBatch(batch);
    }
    this.#checkPrepared(slot);
  }

  /** Adds a batch's unexecuted requests to the pending set, arming the view-change timer. */
  #trackBatch(batch: readonly PbftRequest[]): void {
    let added = false;
    for (const r of batch) {
      const entry = this.#clients.get(hex(r.client));
      if (entry !== undefined && r.timestamp <= entry.timestamp) continue;
      const key = requestKey(r);
      if (this.#pending.has(key) || this.#pending.size >= this.opts.maxPendingRequests) continue;
      this.#pending.set(key, { request: r, key });
      added = true;
    }
    if (added || this.#pending.size > 0) this.#armViewChangeTimer();
  }

  // ---- PREPARE and COMMIT ------------------------------------------------------------------

  #onVote(v: PbftPrepare | PbftCommit): PbftOutcome {
    if (v.view !== this.#view)
      return reject('wrong-view', `${v.type} for view ${v.view}; this replica is in ${this.#view}`);
    if (!this.#active) return reject('view-changing', `waiting for the NEW-VIEW of view ${this.#view}`);
    if (!this.#inWindow(v.seq)) {
      return reject(
        'outside-watermarks',
        `sequence ${v.seq} is outside (${this.#h}, ${this.#h + this.opts.logWindow}]`,
      );
    }
    if (v.replica >= this.validators.n) return reject('unknown-replica', `replica ${v.replica} is not a validator`);
    if (v.replica === this.id) return reject('self', `a ${v.type} of this replica`);
    if (v.type === 'prepare' && v.replica === this.primary) {
      return reject('from-primary', 'the primary does not prepare: its pre-prepare stands for it');
    }
    const sig = checkReplicaSignature(v, this.validators, this.#verifier);
    if (sig !== null) return reject(sig.reason, sig.detail);
    const slot = this.#slots.get(v.seq);
    const votes: Map<number, PbftVoteLike> | undefined = v.type === 'prepare' ? slot?.prepares : slot?.commits;
    const held = votes?.get(v.replica);
    if (held !== undefined) {
      return sameDigest(held.digest, v.digest)
        ? reject('duplicate', `${v.type} of replica ${v.replica} for ${v.seq} already held`)
        : reject('conflicting-vote', `replica ${v.replica} sent another ${v.type} for ${v.seq} in view ${v.view}`);
    }
    const s = slot ?? this.#slot(v.seq);
    if (v.type === 'prepare') {
      s.prepares.set(v.replica, v);
      this.#checkPrepared(s);
    } else {
      s.commits.set(v.replica, v);
      this.#checkCommitted(s);
    }
    return ACCEPTED;
  }

  #checkPrepared(slot: Slot): void {
    if (slot.prepared || slot.prePrepare === null || slot.batch === null) return;
    if (!isPrepared(slot.prePrepare, slot.prepares.values(), this.validators.n)) return;
    const pp = slot.prePrepare;
    const voters = [...matchingVoters(slot.prepares.values(), pp.view, pp.seq, pp.digest, pp.replica)].sort(
      (a, b) => a - b,
    );
    const prepares = voters.slice(0, this.validators.quorum - 1).map((r) => slot.prepares.get(r)!);
    const commit = this.#signVote<PbftCommit>('commit', pp.view, pp.seq, pp.digest);
    if (commit === null) return;
    slot.prepared = true;
    slot.cert = { prePrepare: pp, batch: slot.batch, prepares };
    // The certificate first: a VIEW-CHANGE after a crash must still carry it.
    this.#persist({ kind: 'prepared', cert: slot.cert });
    this.#persist({ kind: 'signed', message: commit });
    slot.commits.set(this.id, commit);
    this.#send('all', commit);
    this.#checkCommitted(slot);
  }

  #checkCommitted(slot: Slot): void {
    if (slot.committed !== null || !slot.prepared || slot.prePrepare === null || slot.batch === null) return;
    if (!isCommittedLocal(slot.prePrepare, slot.prepares.values(), slot.commits.values(), this.validators.n)) return;
    const pp = slot.prePrepare;
    const voters = [...matchingVoters(slot.commits.values(), pp.view, pp.seq, pp.digest)].sort((a, b) => a - b);
    slot.committed = {
      type: 'commit-certificate',
      batch: slot.batch,
      commits: voters.slice(0, this.validators.quorum).map((r) => slot.commits.get(r)!),
    };
    this.#executeReady();
  }

  // ---- execution -----------------------------------------------------------------------------

  #executeReady(): void {
    for (;;) {
      const slot = this.#slots.get(this.#lastExec + 1);
      if (slot?.committed == null) return;
      this.#execute(slot.seq, slot.committed);
    }
  }

  #execute(seq: number, cert: PbftCommitCertificate): void {
    const run: PbftRequest[] = [];
    const newest = new Map<string, number>();
    for (const r of cert.batch) {
      const id = hex(r.client);
      const last = newest.get(id) ?? this.#clients.get(id)?.timestamp ?? 0;
      if (r.timestamp <= last) continue; // exactly once, and never an older request after a newer one
      newest.set(id, r.timestamp);
      run.push(r);
    }
    const results = this.#app.apply(run);
    if (results.length !== run.length) {
      throw new Error(`the application returned ${results.length} results for ${run.length} requests`);
    }
    const vote = cert.commits[0]!;
    this.#persist({ kind: 'executed', cert });
    run.forEach((r, i) => {
      const entry: ClientEntry = { client: r.client, timestamp: r.timestamp, result: results[i]!, reply: null };
      this.#clients.set(hex(r.client), entry);
      if (!this.#replaying) this.#resendReply(entry);
    });
    if (!this.#replaying) {
      this.#out.committed.push({ seq, view: vote.view, digest: vote.digest, requests: run, results });
    }
    this.#lastExec = seq;
    for (const r of cert.batch) {
      const key = requestKey(r);
      this.#pending.delete(key);
      this.#proposed.delete(key);
    }
    if (this.#active && run.length > 0) this.#attempts = 0;
    if (!this.#replaying && this.#active) {
      if (this.#pending.size === 0) this.#cancelViewChangeTimer();
      else this.#armViewChangeTimer(true);
    }
    if (seq % this.opts.checkpointInterval === 0) this.#takeCheckpoint(seq);
  }

  #snapshotBytes(): Uint8Array {
    const clients = [...this.#clients.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, e]) => ({ client: e.client, timestamp: e.timestamp, result: e.result }));
    return encodeSnapshot({ appState: this.#app.snapshot(), clients });
  }

  // ---- checkpoints ---------------------------------------------------------------------------

  #takeCheckpoint(seq: number): void {
    const snapshot = this.#snapshotBytes();
    const digest = stateDigest(snapshot);
    this.#ownCheckpoints.set(seq, { digest, snapshot });
    const cp = this.#sign<PbftCheckpoint>({ type: 'checkpoint', seq, stateDigest: digest, replica: this.id });
    this.#addCheckpoint(cp);
    this.#send('all', cp);
    this.#checkStable(seq);
  }

  #addCheckpoint(cp: PbftCheckpoint): void {
    let bySender = this.#checkpoints.get(cp.seq);
    if (bySender === undefined) {
      bySender = new Map();
      this.#checkpoints.set(cp.seq, bySender);
    }
    bySender.set(cp.replica, cp);
  }

  #onCheckpoint(cp: PbftCheckpoint): PbftOutcome {
    if (cp.seq % this.opts.checkpointInterval !== 0) {
      return reject('not-checkpoint-sequence', `${cp.seq} is not a multiple of ${this.opts.checkpointInterval}`);
    }
    if (cp.seq <= this.#h) return reject('not-needed', `checkpoint ${cp.seq} is not above the stable ${this.#h}`);
    // Far-ahead checkpoints are not kept (a Byzantine replica could fill memory with them);
    // a replica that far behind learns it from its peers' answers to its STATUS.
    if (cp.seq > this.#h + 4 * this.opts.logWindow) {
      return reject('outside-watermarks', `checkpoint ${cp.seq} is beyond ${this.#h + 4 * this.opts.logWindow}`);
    }
    if (cp.replica >= this.validators.n) return reject('unknown-replica', `replica ${cp.replica} is not a validator`);
    if (cp.replica === this.id) return reject('self', 'a checkpoint of this replica');
    const held = this.#checkpoints.get(cp.seq)?.get(cp.replica);
    const sig = checkReplicaSignature(cp, this.validators, this.#verifier);
    if (sig !== null) return reject(sig.reason, sig.detail);
    if (held !== undefined) {
      return sameDigest(held.stateDigest, cp.stateDigest)
        ? reject('duplicate', `checkpoint ${cp.seq} of replica ${cp.replica} already held`)
        : reject('conflicting-vote', `replica ${cp.replica} signed two states at ${cp.seq}`);
    }
    this.#addCheckpoint(cp);
    this.#checkStable(cp.seq);
    return ACCEPTED;
  }

  #checkStable(seq: number): void {
    if (seq <= this.#h) return;
    const bySender = this.#checkpoints.get(seq);
    if (bySender === undefined) return;
    const groups = new Map<string, PbftCheckpoint[]>();
    for (const cp of bySender.values()) {
      const k = hex(cp.stateDigest);
      const g = groups.get(k) ?? [];
      g.push(cp);
      groups.set(k, g);
    }
    for (const group of groups.values()) {
      if (group.length < this.validators.quorum) continue;
      const proof = group.sort((a, b) => a.replica - b.replica).slice(0, this.validators.quorum);
      if (seq > this.#knownStable) this.#knownStable = seq;
      const own = this.#ownCheckpoints.get(seq);
      if (own !== undefined && sameDigest(own.digest, group[0]!.stateDigest)) {
        this.#makeStable(seq, proof, own.snapshot);
      } else if (own !== undefined) {
        this.#out.events.push({ kind: 'checkpoint-mismatch', seq });
      } else if (this.#lastExec < seq) {
        this.#askForState();
      }
      return;
    }
  }

  #makeStable(seq: number, proof: readonly PbftCheckpoint[], snapshot: Uint8Array): void {
    this.#h = seq;
    this.#stableProof = proof;
    this.#stableSnapshot = snapshot;
    for (const s of this.#slots.keys()) if (s <= seq) this.#slots.delete(s);
    for (const s of this.#checkpoints.keys()) if (s <= seq) this.#checkpoints.delete(s);
    for (const s of this.#ownCheckpoints.keys()) if (s < seq) this.#ownCheckpoints.delete(s);
    for (const [k, v] of this.#signed) if (v.seq <= seq) this.#signed.delete(k);
    if (this.#nextSeq <= seq) this.#nextSeq = seq + 1;
    this.#persist({ kind: 'stable', transfer: { type: 'state-transfer', proof, snapshot } });
    if (!this.#replaying) this.#out.events.push({ kind: 'stable-checkpoint', seq });
    this.#propose(false);
  }

  /** Behind a stable checkpoint: a STATUS now (not at the next interval) makes peers send the state. */
  #askForState(): void {
    if (this.#replaying || this.#now - this.#fetchAskedAt < this.opts.statusIntervalMs) return;
    this.#fetchAskedAt = this.#now;
    this.#broadcastStatus();
  }

  // ---- STATUS, retransmission and state transfer -----------------------------------------------

  #onStatus(s: PbftStatus): PbftOutcome {
    if (s.replica >= this.validators.n) return reject('unknown-replica', `replica ${s.replica} is not a validator`);
    if (s.replica === this.id) return reject('self', 'a status of this replica');
    const sig = checkReplicaSignature(s, this.validators, this.#verifier);
    if (sig !== null) return reject(sig.reason, sig.detail);
    const to = s.replica;
    const stuck = this.#peerExecuted.get(to) === s.lastExecuted;
    this.#peerExecuted.set(to, s.lastExecuted);
    // Views: a replica left in an older view, or still waiting in ours, gets the NEW-VIEW;
    // one below us while we wait gets our VIEW-CHANGE (its f+1 rule, the new primary's quorum).
    if (this.#active && this.#newView !== null && (s.view < this.#view || (s.view === this.#view && !s.active))) {
      this.#send(to, this.#newView);
    }
    if (!this.#active && this.#myViewChange !== null && !(s.view === this.#view && s.active) && s.view <= this.#view) {
      this.#send(to, this.#myViewChange);
    }
    const behind = s.lastExecuted < this.#h;
    if (behind && this.#stableSnapshot !== null) {
      this.#send(to, { type: 'state-transfer', proof: this.#stableProof, snapshot: this.#stableSnapshot });
    }
    if (!stuck && !behind) return ACCEPTED;
    // Lost CHECKPOINTs: without them its low watermark stays put and its window shuts.
    if (s.stableCheckpoint < this.#h) for (const cp of this.#stableProof) this.#send(to, cp);
    for (const [seq, bySender] of this.#checkpoints) {
      const own = bySender.get(this.id);
      if (seq > s.stableCheckpoint && own !== undefined) this.#send(to, own);
    }
    let budget = this.opts.maxRetransmit;
    for (let seq = Math.max(s.lastExecuted, this.#h) + 1; seq <= this.#lastExec && budget > 0; seq++) {
      const committed = this.#slots.get(seq)?.committed;
      if (committed == null) break;
      this.#send(to, committed);
      budget--;
    }
    if (!(this.#active && s.active && s.view === this.#view)) return ACCEPTED;
    // Lost votes of sequence numbers still in progress here.
    const top = this.#h + this.opts.logWindow;
    for (let seq = Math.max(s.lastExecuted, this.#lastExec) + 1; seq <= top && budget > 0; seq++) {
      const slot = this.#slots.get(seq);
      if (slot === undefined) continue;
      if (this.isPrimary && slot.prePrepare !== null && slot.batch !== null) {
        this.#send(to, { type: 'proposal', prePrepare: slot.prePrepare, batch: slot.batch });
        budget--;
      }
      const prepare = slot.prepares.get(this.id);
      if (prepare !== undefined) {
        this.#send(to, prepare);
        budget--;
      }
      const commit = slot.commits.get(this.id);
      if (commit !== undefined) {
        this.#send(to, commit);
        budget--;
      }
    }
    return ACCEPTED;
  }

  #onCommitCertificate(c: PbftCommitCertificate): PbftOutcome {
    const first = c.commits[0];
    if (first === undefined) return reject('bad-commit-certificate', 'no commits');
    if (first.seq <= this.#lastExec) return reject('not-needed', `sequence ${first.seq} is already executed`);
    if (!this.#inWindow(first.seq)) {
      return reject(
        'outside-watermarks',
        `sequence ${first.seq} is outside (${this.#h}, ${this.#h + this.opts.logWindow}]`,
      );
    }
    if (this.#slots.get(first.seq)?.committed != null)
      return reject('duplicate', `sequence ${first.seq} is committed here`);
    const bad = checkCommitCertificate(c, this.validators, this.#verifier);
    if (bad !== null) return reject(bad.reason, bad.detail);
    this.#slot(first.seq).committed = c;
    this.#executeReady();
    return ACCEPTED;
  }

  #onStateTransfer(t: PbftStateTransfer): PbftOutcome {
    const seq = t.proof[0]?.seq ?? 0;
    if (seq === 0) return reject('bad-checkpoint-proof', 'a state transfer needs a checkpoint proof');
    if (seq <= this.#lastExec)
      return reject('not-needed', `checkpoint ${seq} is not above the executed ${this.#lastExec}`);
    const digest = checkCheckpointProof(t.proof, seq, this.validators, this.#verifier);
    if (!(digest instanceof Uint8Array)) return reject(digest.reason, digest.detail);
    if (!sameDigest(stateDigest(t.snapshot), digest)) {
      return reject('wrong-state-digest', `the snapshot is not the state the proof for ${seq} names`);
    }
    const problem = this.#restore(t.snapshot);
    if (problem !== null) return reject(problem.reason, problem.detail);
    this.#lastExec = seq;
    this.#ownCheckpoints.set(seq, { digest, snapshot: t.snapshot });
    if (seq > this.#knownStable) this.#knownStable = seq;
    for (const [key, p] of this.#pending) {
      const entry = this.#clients.get(hex(p.request.client));
      if (entry !== undefined && p.request.timestamp <= entry.timestamp) this.#pending.delete(key);
    }
    if (this.#pending.size === 0 && this.#active) this.#cancelViewChangeTimer();
    if (!this.#replaying) this.#out.events.push({ kind: 'state-transferred', seq });
    if (seq > this.#h) this.#makeStable(seq, t.proof, t.snapshot);
    this.#executeReady();
    return ACCEPTED;
  }

  /** Replaces the application state and client table with a snapshot's, or changes nothing. */
  #restore(snapshot: Uint8Array): Problem | null {
    let decoded: ReturnType<typeof decodeSnapshot>;
    try {
      decoded = decodeSnapshot(snapshot);
      this.#app.restore(decoded.appState);
    } catch (err) {
      return { reason: 'bad-snapshot', detail: (err as Error).message };
    }
    this.#clients.clear();
    for (const c of decoded.clients) {
      this.#clients.set(hex(c.client), { client: c.client, timestamp: c.timestamp, result: c.result, reply: null });
    }
    return null;
  }

  // ---- view change -----------------------------------------------------------------------------

  /** Forgets this view's proposals and votes (prepared certificates and commits stay). */
  #leaveView(): void {
    for (const slot of this.#slots.values()) {
      slot.prePrepare = null;
      slot.batch = null;
      slot.prepares.clear();
      slot.commits.clear();
      slot.prepared = false;
    }
    this.#queue = [];
    this.#proposed.clear();
    this.#newView = null;
    if (this.#batchDeadline !== null) {
      this.#batchDeadline = null;
      this.#out.timers.push({ timer: 'batch', atMs: null });
    }
  }

  #startViewChange(newView: number): void {
    if (newView < this.#view || (newView === this.#view && !this.#active)) return;
    this.#leaveView();
    this.#view = newView;
    this.#active = false;
    const prepared = [...this.#slots.values()]
      .filter((s) => s.cert !== null && s.seq > this.#h)
      .sort((a, b) => a.seq - b.seq)
      .map((s) => s.cert!);
    const vc =
      this.#myViewChange?.newView === newView
        ? this.#myViewChange
        : this.#sign<PbftViewChange>({
            type: 'view-change',
            newView,
            checkpointSeq: this.#h,
            checkpointProof: this.#stableProof,
            prepared,
            replica: this.id,
          });
    this.#myViewChange = vc;
    this.#viewChanges.set(this.id, vc);
    this.#persist({ kind: 'view', view: newView, active: false });
    this.#persist({ kind: 'signed', message: vc });
    this.#send('all', vc);
    this.#out.events.push({ kind: 'view-change-started', view: newView });
    this.#attempts++;
    this.#cancelViewChangeTimer();
    this.#armNewViewTimer();
    this.#tryNewView();
  }

  #onViewChange(vc: PbftViewChange): PbftOutcome {
    if (vc.replica >= this.validators.n) return reject('unknown-replica', `replica ${vc.replica} is not a validator`);
    if (vc.replica === this.id) return reject('self', 'a view-change of this replica');
    if (vc.newView < this.#view || (vc.newView === this.#view && this.#active)) {
      return reject('wrong-view', `view-change to ${vc.newView}; this replica is in view ${this.#view}`);
    }
    const held = this.#viewChanges.get(vc.replica);
    if (held !== undefined && held.newView >= vc.newView) {
      return reject('duplicate', `replica ${vc.replica} already asked for view ${held.newView}`);
    }
    const bad = checkViewChange(vc, this.validators, this.#verifier, this.opts.logWindow);
    if (bad !== null) return reject(bad.reason, bad.detail);
    this.#viewChanges.set(vc.replica, vc);
    // f+1 replicas want a higher view: at least one correct one does, so follow (to the smallest).
    const higher = [...this.#viewChanges.values()].filter((v) => v.replica !== this.id && v.newView > this.#view);
    if (higher.length >= this.validators.f + 1) {
      this.#startViewChange(Math.min(...higher.map((v) => v.newView)));
    } else {
      this.#armNewViewTimer();
      this.#tryNewView();
    }
    return ACCEPTED;
  }

  /** The new primary, once it holds 2f+1 VIEW-CHANGEs for its view, sends NEW-VIEW. */
  #tryNewView(): void {
    if (this.#active || !this.isPrimary) return;
    const vcs = [...this.#viewChanges.values()]
      .filter((v) => v.newView === this.#view)
      .sort((a, b) => a.replica - b.replica)
      .slice(0, this.validators.quorum);
    if (vcs.length < this.validators.quorum) return;
    const plan = planNewView(vcs);
    const prePrepares: PbftPrePrepare[] = [];
    for (const e of plan.entries) {
      const pp = this.#signVote<PbftPrePrepare>('pre-prepare', this.#view, e.seq, e.digest);
      if (pp === null) return; // cannot happen unless the log was lost: never equivocate
      prePrepares.push(pp);
    }
    const nv = this.#sign<PbftNewView>({
      type: 'new-view',
      view: this.#view,
      viewChanges: vcs,
      prePrepares,
      replica: this.id,
    });
    this.#persist({ kind: 'new-view', message: nv });
    this.#persist({ kind: 'view', view: this.#view, active: true });
    this.#send('all', nv);
    this.#installNewView(nv, plan);
  }

  #onNewView(nv: PbftNewView): PbftOutcome {
    if (nv.replica >= this.validators.n) return reject('unknown-replica', `replica ${nv.replica} is not a validator`);
    if (nv.view < this.#view || nv.view === 0) {
      return reject('wrong-view', `new-view for view ${nv.view}; this replica is in ${this.#view}`);
    }
    if (nv.view === this.#view && this.#active) return reject('duplicate', `already active in view ${nv.view}`);
    const primary = primaryOf(nv.view, this.validators.n);
    if (nv.replica !== primary)
      return reject('not-primary', `new-view from ${nv.replica}; the primary of ${nv.view} is ${primary}`);
    if (nv.replica === this.id) return reject('self', 'a new-view of this replica');
    const sig = checkReplicaSignature(nv, this.validators, this.#verifier);
    if (sig !== null) return reject(sig.reason, sig.detail);
    if (nv.viewChanges.length < this.validators.quorum) {
      return reject(
        'wrong-new-view',
        `${nv.viewChanges.length} view-changes; a new-view needs ${this.validators.quorum}`,
      );
    }
    for (const vc of nv.viewChanges) {
      if (vc.newView !== nv.view) return reject('wrong-new-view', `it holds a view-change to ${vc.newView}`);
      const bad = checkViewChange(vc, this.validators, this.#verifier, this.opts.logWindow);
      if (bad !== null) return reject('bad-view-change', `${bad.reason}: ${bad.detail}`);
    }
    const plan = planNewView(nv.viewChanges);
    if (nv.prePrepares.length !== plan.entries.length) {
      return reject(
        'wrong-new-view',
        `${nv.prePrepares.length} pre-prepares; the view-changes call for ${plan.entries.length}`,
      );
    }
    for (const [i, pp] of nv.prePrepares.entries()) {
      const e = plan.entries[i]!;
      if (pp.view !== nv.view || pp.replica !== nv.replica || pp.seq !== e.seq || !sameDigest(pp.digest, e.digest)) {
        return reject('wrong-new-view', `pre-prepare ${i} (sequence ${pp.seq}) is not what the view-changes call for`);
      }
      const s = checkReplicaSignature(pp, this.validators, this.#verifier);
      if (s !== null) return reject(s.reason, s.detail);
    }
    if (nv.view > this.#view || this.#active) this.#leaveView();
    this.#view = nv.view;
    this.#persist({ kind: 'new-view', message: nv });
    this.#persist({ kind: 'view', view: nv.view, active: true });
    this.#installNewView(nv, plan);
    return ACCEPTED;
  }

  #installNewView(nv: PbftNewView, plan: NewViewPlan): void {
    this.#active = true;
    this.#newView = nv;
    for (const [r, vc] of this.#viewChanges) if (vc.newView <= nv.view) this.#viewChanges.delete(r);
    if (this.#myViewChange !== null && this.#myViewChange.newView <= nv.view) this.#myViewChange = null;
    if (!this.#replaying) this.#out.events.push({ kind: 'new-view', view: nv.view });
    // The checkpoint the new view starts from.
    if (plan.checkpointSeq > this.#h) {
      const own = this.#ownCheckpoints.get(plan.checkpointSeq);
      if (own !== undefined && sameDigest(own.digest, plan.checkpointProof[0]!.stateDigest)) {
        this.#makeStable(plan.checkpointSeq, plan.checkpointProof, own.snapshot);
      } else if (this.#lastExec < plan.checkpointSeq) {
        if (plan.checkpointSeq > this.#knownStable) this.#knownStable = plan.checkpointSeq;
        this.#askForState();
      }
    }
    let top = Math.max(this.#lastExec, this.#h);
    nv.prePrepares.forEach((pp, i) => {
      top = Math.max(top, pp.seq);
      if (pp.seq > this.#h && pp.seq <= this.#h + this.opts.logWindow)
        this.#acceptPrePrepare(pp, plan.entries[i]!.batch);
    });
    this.#viewChangeDeadline = null;
    this.#out.timers.push({ timer: 'view-change', atMs: null });
    if (this.isPrimary) {
      this.#nextSeq = top + 1;
      this.#queue = [...this.#pending.keys()];
      this.#propose(false);
    } else if (this.#pending.size > 0) {
      this.#armViewChangeTimer();
    }
  }

  // ---- recovery ----------------------------------------------------------------------------------

  /**
   * A replica rebuilt from its write-ahead log after a crash: the stable checkpoint's
   * state, every executed batch after it re-applied (no replies, nothing persisted again),
   * the view it was in, and every vote it signed, so it can never sign a conflicting one.
   * `modules.app` must be in its initial state. Call start(now) next.
   */
  static recover(
    config: PbftReplicaConfig,
    opts: Partial<PbftOptions>,
    modules: PbftReplicaModules,
    records: readonly PbftWalRecord[],
  ): PbftReplica {
    const r = new PbftReplica(config, opts, modules);
    r.#replaying = true;
    r.#recover(records);
    r.#replaying = false;
    r.#out = emptyOutput();
    return r;
  }

  #recover(records: readonly PbftWalRecord[]): void {
    let stable: PbftStateTransfer | null = null;
    let view = 0;
    let active = true;
    let newView: PbftNewView | null = null;
    for (const rec of records) {
      if (rec.kind === 'stable' && (stable === null || rec.transfer.proof[0]!.seq > stable.proof[0]!.seq)) {
        stable = rec.transfer;
      } else if (rec.kind === 'view' && rec.view >= view) {
        view = rec.view;
        active = rec.active;
      } else if (rec.kind === 'new-view' && (newView === null || rec.message.view >= newView.view)) {
        newView = rec.message;
      }
    }
    if (stable !== null) {
      const seq = stable.proof[0]!.seq;
      const problem = this.#restore(stable.snapshot);
      if (problem !== null) throw new Error(`the WAL's stable checkpoint ${seq} does not restore: ${problem.detail}`);
      this.#lastExec = seq;
      this.#h = seq;
      this.#stableProof = stable.proof;
      this.#stableSnapshot = stable.snapshot;
      this.#ownCheckpoints.set(seq, { digest: stateDigest(stable.snapshot), snapshot: stable.snapshot });
      this.#knownStable = seq;
    }
    // Executed batches, in sequence order from the checkpoint on.
    const executed = new Map<number, PbftCommitCertificate>();
    for (const rec of records) if (rec.kind === 'executed') executed.set(rec.cert.commits[0]!.seq, rec.cert);
    for (let seq = this.#lastExec + 1; executed.has(seq); seq++) this.#slot(seq).committed = executed.get(seq)!;
    this.#executeReady();
    this.#view = view;
    this.#active = active;
    for (const rec of records) {
      if (rec.kind === 'prepared') {
        const seq = rec.cert.prePrepare.seq;
        if (seq <= this.#h) continue;
        const slot = this.#slot(seq);
        if (slot.cert === null || rec.cert.prePrepare.view >= slot.cert.prePrepare.view) slot.cert = rec.cert;
      } else if (rec.kind === 'signed') {
        this.#recoverSigned(rec.message);
      }
    }
    if (newView !== null && newView.view === view && active) {
      this.#newView = newView;
      const plan = planNewView(newView.viewChanges);
      newView.prePrepares.forEach((pp, i) => {
        if (!this.#inWindow(pp.seq)) return;
        const slot = this.#slot(pp.seq);
        slot.prePrepare = pp;
        slot.batch = plan.entries[i]!.batch;
        if (this.isPrimary) this.#signed.set(`pre-prepare:${pp.view}:${pp.seq}`, pp);
        this.#nextSeq = Math.max(this.#nextSeq, pp.seq + 1);
      });
    }
    for (const slot of this.#slots.values()) {
      if (slot.cert !== null && slot.cert.prePrepare.view === view && slot.prePrepare === null) {
        slot.prePrepare = slot.cert.prePrepare;
        slot.batch = slot.cert.batch;
      }
      if (slot.cert !== null && slot.prePrepare !== null && slot.cert.prePrepare.view === view) {
        // The certificate's PREPAREs are this view's: they count again, so COMMITs that
        // arrive now can still make the batch committed-local here.
        for (const p of slot.cert.prepares) slot.prepares.set(p.replica, p);
        slot.prepared = slot.commits.has(this.id);
      }
    }
    this.#nextSeq = Math.max(this.#nextSeq, this.#lastExec + 1, this.#h + 1);
  }

  #recoverSigned(m: PbftProposal | PbftPrepare | PbftCommit | PbftViewChange): void {
    if (m.type === 'view-change') {
      if (m.newView === this.#view && !this.#active) {
        this.#myViewChange = m;
        this.#viewChanges.set(this.id, m);
      }
      return;
    }
    const vote = m.type === 'proposal' ? m.prePrepare : m;
    if (vote.seq <= this.#h) return;
    this.#signed.set(`${vote.type}:${vote.view}:${vote.seq}`, vote);
    if (vote.view !== this.#view || !this.#active || vote.seq <= this.#lastExec) return;
    const slot = this.#slot(vote.seq);
    if (m.type === 'proposal') {
      slot.prePrepare = m.prePrepare;
      slot.batch = m.batch;
      this.#nextSeq = Math.max(this.#nextSeq, vote.seq + 1);
      for (const r of m.batch) this.#proposed.add(requestKey(r));
    } else if (m.type === 'prepare') {
      slot.prepares.set(this.id, m);
    } else {
      slot.commits.set(this.id, m);
    }
  }
}

type PbftVoteLike = PbftPrepare | PbftCommit;
