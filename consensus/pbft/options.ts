/** Options of a PBFT replica (Lodestar style: a type, its defaults, one resolver that names the bad option). */

export interface PbftOptions {
  /** K: a checkpoint every K sequence numbers. */
  checkpointInterval: number;
  /** L: the log window; sequence numbers are accepted in (h, h + L]. A multiple of K. */
  logWindow: number;
  /** Most requests in one PRE-PREPARE; larger batches are refused. */
  batchSize: number;
  /** How long the primary holds a partial batch for more requests; 0 proposes at once. */
  batchDelayMs: number;
  /**
   * A partial batch whose delay ran out is cut only while fewer batches than this are in
   * flight (proposed and not yet executed by the primary); otherwise its requests wait to
   * fill a batch, or for one in flight to execute. Under load batches then fill up instead
   * of going out small, each costing every replica its votes; at low load (nothing in
   * flight) a request still goes out after batchDelayMs. Full batches go out regardless,
   * up to the log window. The window of outstanding instances of Castro and Liskov's
   * batching.
   */
  partialBatchWindow: number;
  /**
   * Most batches in flight at the primary (proposed and not yet executed there), full ones
   * included. The primary's actual bound adapts below this: it halves (at most once per
   * round of batches in flight) when a batch took longer than a quarter of
   * viewChangeTimeoutMs from its PRE-PREPARE to its execution, grows by one per round
   * while batches execute faster than that, and restarts at 1 when the replica becomes a
   * new view's primary. Under overload requests then wait in the primary's queue (and are
   * refused there beyond maxPendingRequests) instead of piling up as proposals at every
   * backup, where a round longer than the timeout brings view changes. The bound is a
   * pace, not a rule of the protocol: backups accept any number.
   */
  maxBatchesInFlight: number;
  /** How long a backup waits for a pending request to execute before it starts a view change; doubles with each view change until the replica has caught up (executed with nothing pending). */
  viewChangeTimeoutMs: number;
  /** Cap on the doubled view-change timeout. */
  maxViewChangeTimeoutMs: number;
  /** How often a replica sends its STATUS, to which peers answer with what it lacks. */
  statusIntervalMs: number;
  /** Requests a replica keeps waiting for execution; beyond it new ones are refused (`overloaded`). */
  maxPendingRequests: number;
  /** Messages re-sent to one peer in answer to one STATUS. */
  maxRetransmit: number;
}

export const defaultPbftOptions: Readonly<PbftOptions> = Object.freeze({
  checkpointInterval: 128,
  logWindow: 256,
  batchSize: 256,
  batchDelayMs: 2,
  partialBatchWindow: 1,
  maxBatchesInFlight: 8,
  viewChangeTimeoutMs: 2000,
  maxViewChangeTimeoutMs: 60_000,
  statusIntervalMs: 500,
  maxPendingRequests: 10_000,
  maxRetransmit: 64,
});

export function resolvePbftOptions(opts: Partial<PbftOptions> = {}): PbftOptions {
  const o: PbftOptions = { ...defaultPbftOptions };
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  const int = (name: keyof PbftOptions, min: number): void => {
    const v = o[name];
    if (!Number.isSafeInteger(v) || v < min)
      throw new RangeError(`pbft option ${name} must be an integer >= ${min}, got ${v}`);
  };
  int('checkpointInterval', 1);
  int('logWindow', 1);
  int('batchSize', 1);
  int('batchDelayMs', 0);
  int('partialBatchWindow', 1);
  int('maxBatchesInFlight', 1);
  int('viewChangeTimeoutMs', 1);
  int('maxViewChangeTimeoutMs', 1);
  int('statusIntervalMs', 1);
  int('maxPendingRequests', 1);
  int('maxRetransmit', 1);
  if (o.logWindow % o.checkpointInterval !== 0) {
    throw new RangeError(
      `pbft option logWindow (${o.logWindow}) must be a multiple of checkpointInterval (${o.checkpointInterval})`,
    );
  }
  if (o.maxViewChangeTimeoutMs < o.viewChangeTimeoutMs) {
    throw new RangeError('pbft option maxViewChangeTimeoutMs must be at least viewChangeTimeoutMs');
  }
  return o;
}
