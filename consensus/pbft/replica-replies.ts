/**
 * REPLYs to clients: one Ed25519 signature per executed batch, made only when read.
 *
 * Every replica outputs a REPLY for every request it executes, but the shell reads one
 * only for a client waiting on this node. So the replies of a batch share one lazily
 * built signer: the first read of any of them builds the batch's reply tree
 * (protocol/pbft/reply-tree.ts) and signs its root once; each REPLY then carries its
 * leaf's proof. A replica nobody asks pays for the closure only. A REPLY re-sent later
 * (a retransmitted request, a view that moved) is signed alone, as a tree of one.
 */
import type { PbftReply } from '../../protocol/pbft/types.ts';
import type { ClientEntry, ReplicaCore } from './replica-core.ts';

/** Outputs the REPLYs to a batch's executed requests (`entries`, in execution order). */
export function outputBatchReplies(core: ReplicaCore, entries: readonly ClientEntry[]): void {
  if (core.replaying || entries.length === 0) return;
  const view = core.view;
  let signed: PbftReply[] | null = null;
  const replyAt = (index: number): PbftReply => {
    if (signed === null) {
      const replies = core.signReplies(view, entries);
      // Kept for retransmissions in this view, unless one for a later view is there already.
      entries.forEach((e, i) => {
        if (e.reply === null) e.reply = replies[i]!;
      });
      signed = replies;
    }
    return signed[index]!;
  };
  entries.forEach((entry, index) => {
    core.out.replies.push({
      client: entry.client,
      timestamp: entry.timestamp,
      seq: entry.seq,
      get message(): PbftReply {
        return replyAt(index);
      },
    });
  });
}

/** Outputs the REPLY to `entry` in the current view; it is signed only if the shell reads it. */
export function resendReply(core: ReplicaCore, entry: ClientEntry): void {
  if (core.replaying) return;
  const view = core.view;
  core.out.replies.push({
    client: entry.client,
    timestamp: entry.timestamp,
    seq: entry.seq,
    get message(): PbftReply {
      return replyIn(core, entry, view);
    },
  });
}

/**
 * The REPLY to `entry` in `view`: the one kept from its batch (or an earlier re-send) if
 * that names `view`, else signed now on its own and kept.
 */
export function replyIn(core: ReplicaCore, entry: ClientEntry, view: number): PbftReply {
  if (entry.reply === null || entry.reply.view !== view) entry.reply = core.signReplies(view, [entry])[0]!;
  return entry.reply;
}
