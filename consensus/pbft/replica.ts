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
 *
 * This class is the way in; the protocol itself is in functions of the replica's state
 * (replica-core.ts), one file per concern: replica-normal-case.ts (requests, batches,
 * votes, execution), replica-checkpoints.ts (checkpoints and garbage collection),
 * replica-view-change.ts, replica-retransmission.ts (STATUS, commit certificates,
 * state transfer) and replica-recovery.ts (rebuilding from the WAL).
 */

import type { Ed25519Signer } from '../../protocol/crypto/ed25519.ts';
import { stateDigest } from '../../protocol/pbft/sign.ts';
import { pbftStructureProblem } from '../../protocol/pbft/structure.ts';
import type { PbftMessage, PbftRequest } from '../../protocol/pbft/types.ts';
import type { PbftVerifier } from '../../protocol/pbft/verifier.ts';
import type { PbftWalRecord } from '../../protocol/pbft/wal-record.ts';
import type { PbftApp } from './app.ts';
import type { PbftOptions } from './options.ts';
import {
  ACCEPTED,
  emptyOutput,
  type PbftOutcome,
  type PbftOutput,
  type PbftOutputDraft,
  type PbftReceiveResult,
  type PbftTimer,
  reject,
} from './output.ts';
import { onCheckpoint } from './replica-checkpoints.ts';
import { ReplicaCore } from './replica-core.ts';
import { onProposal, onRelay, onRequest, onVote, propose, snapshotBytes } from './replica-normal-case.ts';
import { pipelineBound } from './replica-pipeline.ts';
import { replayLog } from './replica-recovery.ts';
import { broadcastStatus, onCommitCertificate, onStateTransfer, onStatus } from './replica-retransmission.ts';
import { armNewViewTimer, onNewView, onViewChange, startViewChange } from './replica-view-change.ts';
import type { PbftValidatorSet } from './validators.ts';

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
  /** The bound on batches in flight this replica keeps as primary (replica-pipeline.ts). */
  readonly pipelineWindow: number;
  readonly validators: number;
  readonly f: number;
}

export class PbftReplica {
  readonly id: number;
  readonly validators: PbftValidatorSet;
  readonly opts: PbftOptions;
  readonly #core: ReplicaCore;

  constructor(config: PbftReplicaConfig, opts: Partial<PbftOptions>, modules: PbftReplicaModules) {
    this.#core = new ReplicaCore(config, opts, modules);
    this.id = this.#core.id;
    this.validators = this.#core.validators;
    this.opts = this.#core.opts;
  }

  get view(): number {
    return this.#core.view;
  }

  get active(): boolean {
    return this.#core.active;
  }

  get primary(): number {
    return this.#core.primary;
  }

  get isPrimary(): boolean {
    return this.#core.isPrimary;
  }

  get lastExecuted(): number {
    return this.#core.lastExec;
  }

  get stableCheckpoint(): number {
    return this.#core.h;
  }

  /** The bound on batches in flight this replica keeps as primary (replica-pipeline.ts). */
  get pipelineWindow(): number {
    return pipelineBound(this.#core);
  }

  status(): PbftReplicaStatus {
    return {
      id: this.#core.id,
      view: this.#core.view,
      active: this.#core.active,
      primary: this.#core.primary,
      lastExecuted: this.#core.lastExec,
      stableCheckpoint: this.#core.h,
      pendingRequests: this.#core.pending.size,
      pipelineWindow: this.pipelineWindow,
      validators: this.#core.validators.n,
      f: this.#core.validators.f,
    };
  }

  /** This replica's state digest at checkpoint `seq`, while it keeps it. */
  checkpointDigest(seq: number): Uint8Array | undefined {
    return this.#core.ownCheckpoints.get(seq)?.digest;
  }

  /** The digest of the current state (application and client table), for checkers. */
  stateDigest(): Uint8Array {
    return stateDigest(snapshotBytes(this.#core));
  }

  /** Call once after construction or recover: starts the STATUS timer and announces this replica. */
  start(nowMs: number): PbftOutput {
    return this.#run(nowMs, () => {
      broadcastStatus(this.#core);
      armNewViewTimer(this.#core);
      if (this.#core.isPrimary && this.#core.active) propose(this.#core, true);
    });
  }

  /** Handles one message (from a validator or, for a REQUEST, a client). */
  receive(message: PbftMessage, nowMs: number): PbftReceiveResult {
    let outcome: PbftOutcome = ACCEPTED;
    const out = this.#run(nowMs, () => {
      outcome = this.#dispatch(message);
      // A NEW-VIEW installed: the proposals and votes of its view that came before it.
      if (this.#core.active && this.#core.early.length > 0) {
        const early = this.#core.early;
        this.#core.early = [];
        this.#core.earlyCount.clear();
        for (const m of early) this.#dispatch(m);
      }
    });
    out.outcome = outcome;
    return out;
  }

  /**
   * A request of this node's own client, to go to every replica: its retransmission after
   * it waited here without a reply, or any request while this replica has left its view
   * (replica-normal-case.ts, onRelay). A REQUEST from a peer goes to receive(), and is
   * never relayed again.
   */
  relay(request: PbftRequest, nowMs: number): PbftReceiveResult {
    let outcome: PbftOutcome = ACCEPTED;
    const out = this.#run(nowMs, () => {
      const structure = pbftStructureProblem(request);
      outcome = structure === null ? onRelay(this.#core, request) : reject('malformed', structure);
    });
    out.outcome = outcome;
    return out;
  }

  /** A timer set by an earlier output fired. Stale firings (re-set or cancelled since) do nothing. */
  onTimer(timer: PbftTimer, nowMs: number): PbftOutput {
    return this.#run(nowMs, () => {
      if (timer === 'status') {
        broadcastStatus(this.#core);
      } else if (timer === 'batch') {
        if (this.#core.batchDeadline !== null && nowMs >= this.#core.batchDeadline) {
          this.#core.batchDeadline = null;
          propose(this.#core, true);
        }
      } else if (this.#core.viewChangeDeadline !== null && nowMs >= this.#core.viewChangeDeadline) {
        this.#core.viewChangeDeadline = null;
        this.#core.out.timers.push({ timer: 'view-change', atMs: null });
        // Active: a request waited too long, suspect the primary (nothing pending, no
        // reason to). Waiting for a NEW-VIEW: 2f+1 replicas are here and the new primary
        // did not deliver, so try the next one.
        if (!this.#core.active || this.#core.pending.size > 0) startViewChange(this.#core, this.#core.view + 1);
      }
    });
  }

  #run(nowMs: number, body: () => void): PbftOutputDraft {
    if (!Number.isFinite(nowMs)) throw new TypeError(`nowMs must be a finite number, got ${nowMs}`);
    this.#core.now = nowMs;
    this.#core.out = emptyOutput();
    body();
    return this.#core.out;
  }

  #dispatch(m: PbftMessage): PbftOutcome {
    const structure = pbftStructureProblem(m);
    if (structure !== null) return reject('malformed', structure);
    switch (m.type) {
      case 'request':
        return onRequest(this.#core, m);
      case 'proposal':
        return onProposal(this.#core, m);
      case 'prepare':
      case 'commit':
        return onVote(this.#core, m);
      case 'checkpoint':
        return onCheckpoint(this.#core, m);
      case 'view-change':
        return onViewChange(this.#core, m);
      case 'new-view':
        return onNewView(this.#core, m);
      case 'status':
        return onStatus(this.#core, m);
      case 'commit-certificate':
        return onCommitCertificate(this.#core, m);
      case 'state-transfer':
        return onStateTransfer(this.#core, m);
      case 'reply':
        return reject('unexpected', 'replicas do not take replies');
    }
  }

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
    r.#core.replaying = true;
    replayLog(r.#core, records);
    r.#core.replaying = false;
    r.#core.out = emptyOutput();
    return r;
  }
}
