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
import type { PbftClientReply } from './output.ts';
import type { ClientEntry, ReplicaCore } from './replica-core.ts';

/**
 * The REPLYs of one executed batch, signed together on the first read of any of them.
 * A class, not a closure per batch and an object literal with a getter per request: a
 * literal with an accessor is built by the runtime each time (an accessor pair and a
 * closure per REPLY), and every replica makes one per request it executes.
 */
class BatchReplies {
  readonly #core: ReplicaCore;
  readonly #view: number;
  readonly #entries: readonly ClientEntry[];
  #signed: PbftReply[] | null = null;

  constructor(core: ReplicaCore, view: number, entries: readonly ClientEntry[]) {
    this.#core = core;
    this.#view = view;
    this.#entries = entries;
  }

  at(index: number): PbftReply {
    if (this.#signed === null) {
      const replies = this.#core.signReplies(this.#view, this.#entries);
      // Kept for retransmissions in this view, unless one for a later view is there already.
      this.#entries.forEach((e, i) => {
        if (e.reply === null) e.reply = replies[i]!;
      });
      this.#signed = replies;
    }
    return this.#signed[index]!;
  }
}

/** What every REPLY output carries besides the lazily signed message. */
class ReplyFields {
  readonly client: Uint8Array;
  readonly timestamp: number;
  readonly seq: number | null;

  constructor(entry: ClientEntry) {
    this.client = entry.client;
    this.timestamp = entry.timestamp;
    this.seq = entry.seq;
  }
}

/** One REPLY of a batch, signed (with the whole batch) when `message` is first read. */
class BatchReply extends ReplyFields implements PbftClientReply {
  readonly #batch: BatchReplies;
  readonly #index: number;

  constructor(entry: ClientEntry, batch: BatchReplies, index: number) {
    super(entry);
    this.#batch = batch;
    this.#index = index;
  }

  get message(): PbftReply {
    return this.#batch.at(this.#index);
  }
}

/** A REPLY re-sent alone in `view`, signed when `message` is first read. */
class ResentReply extends ReplyFields implements PbftClientReply {
  readonly #core: ReplicaCore;
  readonly #entry: ClientEntry;
  readonly #view: number;

  constructor(core: ReplicaCore, entry: ClientEntry, view: number) {
    super(entry);
    this.#core = core;
    this.#entry = entry;
    this.#view = view;
  }

  get message(): PbftReply {
    return replyIn(this.#core, this.#entry, this.#view);
  }
}

/** Outputs the REPLYs to a batch's executed requests (`entries`, in execution order). */
export function outputBatchReplies(core: ReplicaCore, entries: readonly ClientEntry[]): void {
  if (core.replaying || entries.length === 0) return;
  const batch = new BatchReplies(core, core.view, entries);
  for (let i = 0; i < entries.length; i++) core.out.replies.push(new BatchReply(entries[i]!, batch, i));
}

/** Outputs the REPLY to `entry` in the current view; it is signed only if the shell reads it. */
export function resendReply(core: ReplicaCore, entry: ClientEntry): void {
  if (core.replaying) return;
  core.out.replies.push(new ResentReply(core, entry, core.view));
}

/**
 * The REPLY to `entry` in `view`: the one kept from its batch (or an earlier re-send) if
 * that names `view`, else signed now on its own and kept.
 */
export function replyIn(core: ReplicaCore, entry: ClientEntry, view: number): PbftReply {
  if (entry.reply === null || entry.reply.view !== view) entry.reply = core.signReplies(view, [entry])[0]!;
  return entry.reply;
}
