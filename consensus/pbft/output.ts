/**
 * What a replica returns from every call (receive, onTimer, start). The shell carries
 * it out in this order:
 *   1. append `persist` to the write-ahead log and fsync it (one atomic batch);
 *   2. only then send `send` and `replies`;
 *   3. set or cancel `timers`; hand `committed` to whoever follows the log.
 * A crash anywhere in between is safe because of that order: nothing that leaves the
 * node depends on a record that could still be lost.
 */
import type { PbftMessage, PbftReply, PbftRequest } from '../../protocol/pbft/types.ts';
import type { PbftWalRecord } from '../../protocol/pbft/wal-record.ts';

export type PbftTimer = 'batch' | 'view-change' | 'status';

export interface PbftSend {
  /** A validator index, or 'all': every validator but this one. */
  readonly to: number | 'all';
  readonly message: PbftMessage;
}

export interface PbftClientReply {
  /** The client's 32-byte public key (its id). */
  readonly client: Uint8Array;
  /** The timestamp of the request it answers. */
  readonly timestamp: number;
  /**
   * The sequence number the request was executed at, when this replica knows it: null for
   * a request executed before a state transfer (the snapshot keeps each client's last
   * result, not its seq).
   */
  readonly seq: number | null;
  /**
   * The signed REPLY, with its proof. Signed on first read (Ed25519 signing is
   * deterministic, so when is invisible), and then for the whole batch it came from: the
   * first read of any REPLY of an executed batch signs the root of the batch's reply tree
   * once (replica-replies.ts). A shell with no client waiting never pays for a signature,
   * one that answers every client pays one per batch, not one per request.
   */
  readonly message: PbftReply;
}

export interface PbftTimerSetting {
  readonly timer: PbftTimer;
  /** When to call onTimer(timer, now); null cancels it. One pending time per timer: a new setting replaces the old. */
  readonly atMs: number | null;
}

/** A batch executed at `seq`, in sequence order. */
export interface PbftCommitted {
  readonly seq: number;
  readonly view: number;
  readonly digest: Uint8Array;
  /** The requests that ran (a retransmitted request already executed is left out). */
  readonly requests: readonly PbftRequest[];
  readonly results: readonly Uint8Array[];
}

export type PbftEvent =
  | { readonly kind: 'view-change-started'; readonly view: number }
  | { readonly kind: 'new-view'; readonly view: number }
  /** A valid NEW-VIEW names VIEW-CHANGEs of these replicas that this one lacks: it holds the NEW-VIEW and asks for them. */
  | { readonly kind: 'new-view-incomplete'; readonly view: number; readonly missing: readonly number[] }
  | { readonly kind: 'stable-checkpoint'; readonly seq: number }
  | { readonly kind: 'state-transferred'; readonly seq: number }
  /** This replica's state at `seq` differs from what 2f+1 replicas signed: it will not adopt that checkpoint. */
  | { readonly kind: 'checkpoint-mismatch'; readonly seq: number }
  /** It refused to sign a vote conflicting with one it signed before (after a crash, say). */
  | { readonly kind: 'refused-conflicting-vote'; readonly what: string };

export interface PbftOutput {
  readonly persist: PbftWalRecord[];
  readonly send: PbftSend[];
  readonly replies: PbftClientReply[];
  readonly timers: PbftTimerSetting[];
  readonly committed: PbftCommitted[];
  readonly events: PbftEvent[];
}

/** Every reason a message is refused or ignored. Refusals change nothing. */
export const PBFT_REJECT_REASONS = [
  'malformed',
  'unexpected',
  'unknown-replica',
  'self',
  'bad-signature',
  'bad-request',
  'wrong-view',
  'view-changing',
  'not-primary',
  'from-primary',
  'outside-watermarks',
  'wrong-digest',
  'oversized-batch',
  'conflicting-pre-prepare',
  'conflicting-vote',
  'duplicate',
  'stale-request',
  'overloaded',
  'not-checkpoint-sequence',
  'bad-checkpoint-proof',
  'bad-prepared-certificate',
  'bad-commit-certificate',
  'bad-view-change',
  'wrong-new-view',
  'wrong-state-digest',
  'bad-snapshot',
  'not-needed',
] as const;

export type PbftRejectReason = (typeof PBFT_REJECT_REASONS)[number];

export type PbftOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: PbftRejectReason; readonly detail: string };

export interface PbftReceiveResult extends PbftOutput {
  readonly outcome: PbftOutcome;
}

/**
 * An output while the replica builds it, with the outcome of the input it answers
 * (receive() and relay() set it; ACCEPTED otherwise). The outcome is a field from the
 * start, so an answer to an input is this one object, not a copy of it with the outcome
 * added: a primary answers one per client request.
 */
export interface PbftOutputDraft extends PbftOutput {
  outcome: PbftOutcome;
}

export function emptyOutput(): PbftOutputDraft {
  return { persist: [], send: [], replies: [], timers: [], committed: [], events: [], outcome: ACCEPTED };
}

export function reject(reason: PbftRejectReason, detail: string): PbftOutcome {
  return { ok: false, reason, detail };
}

export const ACCEPTED: PbftOutcome = Object.freeze({ ok: true });
