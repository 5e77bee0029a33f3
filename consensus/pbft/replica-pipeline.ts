/**
 * The primary's pace: how many batches it keeps in flight (proposed, not yet executed
 * here). Pure, like the rest of the replica: it reads the time of the input being handled.
 *
 * Why: with a fixed, deep pipeline an overloaded federation (n = 16 sharing two cores, say)
 * took longer per round of batches than the view-change timeout, and backups replaced a
 * primary that was making progress, again and again. The bound is additive-increase,
 * multiplicative-decrease on the latency the primary sees from a batch's PRE-PREPARE to its
 * execution, against a target of a quarter of the base view-change timeout: well inside
 * the time a backup waits before it suspects the primary. At normal load batches execute
 * well inside the target and the bound stays at its maximum. Requests the bound holds
 * back wait in the primary's queue, bounded by maxPendingRequests, where a full queue
 * refuses them (`overloaded`): the overload reaches clients as a refusal, not the
 * federation as view changes.
 */
import type { ReplicaCore, Slot } from './replica-core.ts';

/** Batches this primary may have in flight now. */
export function pipelineBound(core: ReplicaCore): number {
  return Math.floor(core.pipelineWindow);
}

/** The latency target: a quarter of the base view-change timeout (at least 1 ms). */
export function pipelineTargetMs(core: ReplicaCore): number {
  return Math.max(1, core.opts.viewChangeTimeoutMs / 4);
}

/**
 * This replica became the primary of a new view: a view change is the federation's
 * timeout, so its pipeline restarts at one batch, as TCP restarts its window after a
 * retransmission timeout, and grows back by one a round while batches execute in time.
 * Without it a new primary started at the maximum it had never lowered (as a backup it
 * measured nothing), a burst at the moment the federation is least able to take one.
 */
export function restartPipeline(core: ReplicaCore): void {
  core.pipelineWindow = 1;
  core.pipelineCutSeq = core.nextSeq - 1;
}

/**
 * A batch this replica proposed in this view executed: adapt the bound. Halve it when the
 * batch was late, at most once per round (only for a batch proposed after the last halving,
 * as TCP reacts once per window); otherwise grow it by one batch per round.
 */
export function notePipelineLatency(core: ReplicaCore, slot: Slot): void {
  const proposedAt = slot.proposedAtMs;
  if (proposedAt === null) return;
  slot.proposedAtMs = null;
  const max = core.opts.maxBatchesInFlight;
  if (core.now - proposedAt > pipelineTargetMs(core)) {
    if (slot.seq <= core.pipelineCutSeq) return;
    core.pipelineWindow = Math.max(1, Math.floor(core.pipelineWindow / 2));
    core.pipelineCutSeq = core.nextSeq - 1;
  } else {
    core.pipelineWindow = Math.min(max, core.pipelineWindow + 1 / Math.floor(core.pipelineWindow));
  }
}
