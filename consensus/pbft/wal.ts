/**
 * The write-ahead log's contract, and an in-memory one for the simulator and tests.
 *
 * A replica's `persist` records (protocol/pbft/wal-record.ts) are appended in order, as
 * one atomic, fsync'd batch per output, before that output's messages leave.
 * `PbftReplica.recover(records)` reads them back in the same order. A 'stable' record
 * makes everything about sequence numbers at or below its checkpoint obsolete, and of
 * the records that are not about a sequence number (view, new-view, view-change) only
 * the last of each kind matters: `compactWal` keeps exactly what recovery needs.
 */
import type { PbftWalRecord } from '../../protocol/pbft/wal-record.ts';

/** The sequence number a record is about, or null for view-level records. */
export function walRecordSeq(r: PbftWalRecord): number | null {
  switch (r.kind) {
    case 'signed': {
      const m = r.message;
      if (m.type === 'proposal') return m.prePrepare.seq;
      if (m.type === 'view-change') return null;
      return m.seq;
    }
    case 'prepared':
      return r.cert.prePrepare.seq;
    case 'executed':
      return r.cert.commits[0]?.seq ?? 0;
    case 'stable':
      return r.transfer.proof[0]?.seq ?? 0;
    case 'view':
    case 'new-view':
      return null;
  }
}

/** The kind of a view-level record, for keeping the last of each. */
function viewLevelKind(r: PbftWalRecord): string | null {
  if (r.kind === 'view' || r.kind === 'new-view') return r.kind;
  if (r.kind === 'signed' && r.message.type === 'view-change') return 'view-change';
  return null;
}

/** `records` without what the last stable checkpoint and later view-level records make obsolete; order kept. */
export function compactWal(records: readonly PbftWalRecord[]): PbftWalRecord[] {
  let stableAt = -1;
  let stableSeq = 0;
  const lastOfKind = new Map<string, number>();
  records.forEach((r, i) => {
    if (r.kind === 'stable') {
      const seq = walRecordSeq(r) ?? 0;
      if (seq >= stableSeq) {
        stableSeq = seq;
        stableAt = i;
      }
    }
    const k = viewLevelKind(r);
    if (k !== null) lastOfKind.set(k, i);
  });
  return records.filter((r, i) => {
    if (r.kind === 'stable') return i === stableAt;
    const k = viewLevelKind(r);
    if (k !== null) return lastOfKind.get(k) === i;
    return (walRecordSeq(r) ?? 0) > stableSeq;
  });
}

/** Where a shell keeps the log. The LevelDB one writes each append as one batch and fsyncs (sync: true). */
export interface PbftWal {
  append(records: readonly PbftWalRecord[]): void;
  records(): readonly PbftWalRecord[];
}

/** In memory (the simulator's): append is atomic, and compacts when a stable checkpoint arrives. */
export class MemoryWal implements PbftWal {
  #records: PbftWalRecord[] = [];

  append(records: readonly PbftWalRecord[]): void {
    if (records.length === 0) return;
    this.#records.push(...records);
    if (records.some((r) => r.kind === 'stable')) this.#records = compactWal(this.#records);
  }

  records(): readonly PbftWalRecord[] {
    return this.#records;
  }

  get size(): number {
    return this.#records.length;
  }
}
