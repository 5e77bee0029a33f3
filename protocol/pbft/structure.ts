/**
 * Rules every PBFT message must follow whatever the validator set: field lengths, and
 * signed parts listed in one order without duplicates (so a message has one byte form).
 * The decoder applies them to wire bytes and the replica to every message it is handed,
 * so an in-process message (the simulator's) is held to the same rules as a decoded one.
 */
import { MAX_REPLY_PROOF_SIBLINGS, replyProofLength } from './reply-tree.ts';
import type {
  PbftCheckpoint,
  PbftMessage,
  PbftPreparedProof,
  PbftReplyProof,
  PbftRequest,
  PbftStatusSlot,
  PbftVoteFields,
} from './types.ts';

const KEY = 32;
const DIGEST = 32;
const SIGNATURE = 64;
/** Most sequence numbers one STATUS may list as missing their batch (a replica lists at most its retransmission budget). */
export const MAX_STATUS_MISSING_BATCHES = 1024;
/** Most sequence numbers one STATUS may describe (a replica describes at most its retransmission budget). */
export const MAX_STATUS_SLOTS = 1024;
/** Longest vote bitmap of a STATUS slot: 4,096 validators. */
export const MAX_STATUS_BITMAP = 512;

function bitmapProblem(what: string, b: Uint8Array): string | null {
  if (b.length > MAX_STATUS_BITMAP) return `${what} is ${b.length} bytes; at most ${MAX_STATUS_BITMAP}`;
  return b.length > 0 && b[b.length - 1] === 0 ? `${what} must not end in a zero byte` : null;
}

function statusSlotsProblem(slots: readonly PbftStatusSlot[]): string | null {
  if (slots.length > MAX_STATUS_SLOTS) return `status describes ${slots.length} slots; at most ${MAX_STATUS_SLOTS}`;
  return (
    (slots.some((x) => x.seq < 1) ? 'status slot sequence numbers must be at least 1' : null) ??
    increasing('status slots', slots, (x) => x.seq) ??
    allOf(
      slots,
      (x) => bitmapProblem('status slot prepares', x.prepares) ?? bitmapProblem('status slot commits', x.commits),
    )
  );
}

function len(what: string, b: Uint8Array, n: number): string | null {
  return b instanceof Uint8Array && b.length === n ? null : `${what} must be ${n} bytes`;
}

function requestProblem(r: PbftRequest): string | null {
  return (
    len('request client key', r.client, KEY) ??
    len('request signature', r.signature, SIGNATURE) ??
    (r.timestamp >= 1 ? null : 'request timestamp must be at least 1')
  );
}

function batchProblem(batch: readonly PbftRequest[]): string | null {
  for (const r of batch) {
    const p = requestProblem(r);
    if (p !== null) return p;
  }
  return null;
}

function voteProblem(what: string, v: PbftVoteFields): string | null {
  return len(`${what} digest`, v.digest, DIGEST) ?? len(`${what} signature`, v.signature, SIGNATURE);
}

function checkpointProblem(c: PbftCheckpoint): string | null {
  return (
    len('checkpoint state digest', c.stateDigest, DIGEST) ??
    len('checkpoint signature', c.signature, SIGNATURE) ??
    (c.seq >= 1 ? null : 'checkpoint sequence must be at least 1')
  );
}

/** Strictly increasing `key` over `items`: sorted, no duplicates. */
function increasing<X>(what: string, items: readonly X[], key: (x: X) => number): string | null {
  for (let i = 1; i < items.length; i++) {
    if (key(items[i - 1]!) >= key(items[i]!)) return `${what} must be sorted without duplicates`;
  }
  return null;
}

function allOf<X>(items: readonly X[], check: (x: X) => string | null): string | null {
  for (const x of items) {
    const p = check(x);
    if (p !== null) return p;
  }
  return null;
}

function preparedProofProblem(c: PbftPreparedProof): string | null {
  return (
    voteProblem('pre-prepare', c.prePrepare) ??
    allOf(c.prepares, (p) => voteProblem('prepare', p)) ??
    increasing('prepared certificate prepares (by replica)', c.prepares, (p) => p.replica)
  );
}

const byReplica = (x: { replica: number }): number => x.replica;

/** A proof that cannot fold (rootFromProof would refuse it), named precisely. */
function replyProofProblem(p: PbftReplyProof): string | null {
  if (!(p.count >= 1)) return 'reply proof count must be at least 1';
  if (!(p.index < p.count)) return `reply proof index ${p.index} must be below its count ${p.count}`;
  if (p.siblings.length > MAX_REPLY_PROOF_SIBLINGS) {
    return `reply proof has ${p.siblings.length} siblings; at most ${MAX_REPLY_PROOF_SIBLINGS}`;
  }
  const bad = allOf(p.siblings, (s) => len('reply proof sibling', s, DIGEST));
  if (bad !== null) return bad;
  const needed = replyProofLength(p.index, p.count);
  if (needed === null) return `reply proof leaf ${p.index} of ${p.count} is not a position in a tree`;
  if (needed !== p.siblings.length) {
    return `reply proof has ${p.siblings.length} siblings; leaf ${p.index} of ${p.count} needs ${needed}`;
  }
  return null;
}

/** The first structural rule `m` breaks, or null. */
export function pbftStructureProblem(m: PbftMessage): string | null {
  switch (m.type) {
    case 'request':
      return requestProblem(m);
    case 'proposal':
      return voteProblem('pre-prepare', m.prePrepare) ?? batchProblem(m.batch);
    case 'prepare':
    case 'commit':
      return voteProblem(m.type, m);
    case 'checkpoint':
      return checkpointProblem(m);
    case 'view-change':
      return (
        len('view-change signature', m.signature, SIGNATURE) ??
        allOf(m.checkpointProof, checkpointProblem) ??
        increasing('view-change checkpoint proof (by replica)', m.checkpointProof, byReplica) ??
        allOf(m.prepared, preparedProofProblem) ??
        increasing('view-change prepared certificates (by sequence)', m.prepared, (c) => c.prePrepare.seq)
      );
    case 'new-view':
      return (
        len('new-view signature', m.signature, SIGNATURE) ??
        allOf(m.viewChanges, (r) => len('new-view view-change digest', r.digest, DIGEST)) ??
        increasing('new-view view-changes (by replica)', m.viewChanges, byReplica) ??
        allOf(m.prePrepares, (p) => voteProblem('pre-prepare', p)) ??
        increasing('new-view pre-prepares (by sequence)', m.prePrepares, (p) => p.seq)
      );
    case 'reply':
      return (
        len('reply client key', m.client, KEY) ??
        len('reply signature', m.signature, SIGNATURE) ??
        replyProofProblem(m.proof)
      );
    case 'status':
      return (
        len('status signature', m.signature, SIGNATURE) ??
        (m.missingBatches.length > MAX_STATUS_MISSING_BATCHES
          ? `status lists ${m.missingBatches.length} missing batches; at most ${MAX_STATUS_MISSING_BATCHES}`
          : null) ??
        (m.missingBatches.some((s) => s < 1) ? 'status missing batch sequence numbers must be at least 1' : null) ??
        increasing('status missing batches', m.missingBatches, (s) => s) ??
        increasing('status missing view-changes', m.missingViewChanges, (r) => r) ??
        statusSlotsProblem(m.slots)
      );
    case 'commit-certificate':
      return (
        batchProblem(m.batch) ??
        allOf(m.commits, (c) => voteProblem('commit', c)) ??
        increasing('commit certificate commits (by replica)', m.commits, byReplica)
      );
    case 'state-transfer':
      return allOf(m.proof, checkpointProblem) ?? increasing('state transfer proof (by replica)', m.proof, byReplica);
  }
}
