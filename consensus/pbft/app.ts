/**
 * The application state machine PBFT orders requests for. Deterministic: every correct
 * replica applies the same batches in the same order and must reach the same bytes.
 */
import type { PbftRequest } from '../../protocol/pbft/types.ts';

export interface PbftApp {
  /**
   * Executes a batch (already filtered for exactly-once: each request runs once) and
   * returns one result per request, in order. Must not throw for any operation bytes:
   * a bad operation gets an error result, as every replica will give the same one.
   */
  apply(requests: readonly PbftRequest[]): Uint8Array[];
  /** The whole state as deterministic bytes (equal states give equal bytes). */
  snapshot(): Uint8Array;
  /** Replaces the state with a snapshot's; throws, changing nothing, for bytes it cannot read. */
  restore(snapshot: Uint8Array): void;
}
