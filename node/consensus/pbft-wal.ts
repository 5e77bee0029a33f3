/**
 * The PBFT replica's write-ahead log in the node's LevelDB (bucket `pbft-wal`).
 *
 * Keys (binary):
 *   0x00                                   the validator set the log belongs to (JSON)
 *   0x01 | seq (8 bytes BE) | counter (8 BE)  a record about sequence number `seq`
 *                                          (a signed PRE-PREPARE/PREPARE/COMMIT, a prepared
 *                                          certificate, an executed batch); the counter
 *                                          keeps the order of appends within one seq
 *   0x02 | kind                            the last view-level record of each kind (view,
 *                                          new-view, this replica's VIEW-CHANGE) and the
 *                                          last stable checkpoint (proof and snapshot)
 * Values are `encodeWalRecord` bytes (PbftWalRecord of proto/bizra.proto).
 *
 * Each batch is written once per sequence number and digest: a prepared certificate or
 * an executed batch whose batch an earlier record at that seq holds (the primary's
 * proposal, the prepared certificate) is written without it, and `open` puts it back
 * from that record. At saturation a batch is most of a record's bytes, and the primary
 * wrote each one three times, a backup twice. Compaction deletes a seq's records
 * together, so a record never outlives the one holding its batch.
 *
 * `append` writes what one or more replica outputs asked to persist as ONE LevelDB batch
 * with `sync: true` (fsync): all of it is on disk, or none of it. A stable checkpoint in
 * the batch also deletes, in the same batch, every record at or below its sequence number
 * (they are obsolete: recovery starts from the checkpoint's snapshot) and leaves out the
 * batch's own records at or below it. Overwriting the view-level keys keeps only the last
 * of each kind, which is all `PbftReplica.recover` reads (consensus/pbft/wal.ts,
 * `compactWal`). So the log holds at most about one log window (L) of sequence numbers.
 */

import { walRecordSeq } from '../../consensus/pbft/wal.ts';
import type { PbftRequest } from '../../protocol/pbft/types.ts';
import {
  decodeWalRecord,
  encodeWalRecord,
  type PbftWalRecord,
  walRecordBatch,
} from '../../protocol/pbft/wal-record.ts';
import { ConfigError } from '../config/errors.ts';
import { StoreError } from '../errors.ts';
import { Bucket } from '../store/buckets.ts';
import type { Store } from '../store/store.ts';

const META_KEY = Uint8Array.of(0x00);
const SEQ_PREFIX = 0x01;
const VIEW_PREFIX = 0x02;
const VIEW_KINDS = { view: 1, 'new-view': 2, 'view-change': 3, stable: 4 } as const;

type ViewKind = keyof typeof VIEW_KINDS;

function seqKey(seq: number, counter: number): Uint8Array {
  const k = new Uint8Array(17);
  const dv = new DataView(k.buffer);
  k[0] = SEQ_PREFIX;
  dv.setBigUint64(1, BigInt(seq));
  dv.setBigUint64(9, BigInt(counter));
  return k;
}

function viewLevelKind(r: PbftWalRecord): ViewKind | null {
  if (r.kind === 'view' || r.kind === 'new-view' || r.kind === 'stable') return r.kind;
  if (r.kind === 'signed' && r.message.type === 'view-change') return 'view-change';
  return null;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export interface PbftWalStats {
  /** Records on disk (meta key excluded). */
  records: number;
  /** The stable checkpoint the log starts from (0: none). */
  stableSeq: number;
}

type Sub = ReturnType<Store['db']['sublevel']>;

export class PbftLevelWal {
  readonly #store: Store;
  readonly #sub: Sub;
  /** Keys of the sequence-number records on disk, by seq (for compaction in the same batch). */
  readonly #bySeq = new Map<number, Uint8Array[]>();
  /** Digests (latin1) of the batches on disk, by seq: later records at that seq leave them out. */
  readonly #batches = new Map<number, Set<string>>();
  /** Which view-level keys exist (at most four). */
  readonly #viewKinds = new Set<number>();
  #counter = 0;
  #stableSeq = 0;

  private constructor(store: Store) {
    this.#store = store;
    this.#sub = store.db.sublevel<Uint8Array, Uint8Array>(Bucket.pbftWal, {
      keyEncoding: 'view',
      valueEncoding: 'view',
    }) as unknown as Sub;
  }

  /**
   * Opens the log of this validator set and reads it back for `PbftReplica.recover`.
   * A log written for another validator set is refused (ConfigError); a record that
   * does not decode is a StoreError naming its key.
   */
  static async open(store: Store, setIdentity: string): Promise<{ wal: PbftLevelWal; records: PbftWalRecord[] }> {
    const wal = new PbftLevelWal(store);
    const sub = wal.#sub as unknown as {
      get(k: Uint8Array): Promise<Uint8Array | undefined>;
      iterator(o?: object): AsyncIterable<[Uint8Array, Uint8Array]>;
    };
    const meta = await sub.get(META_KEY);
    const views = new Map<ViewKind, PbftWalRecord>();
    const seqRecords: PbftWalRecord[] = [];
    if (meta === undefined) {
      for await (const [key] of sub.iterator({ limit: 1 })) {
        throw new StoreError(
          `the pbft-wal bucket of ${store.dir} holds records (${hex(key)}) but no validator set; the database is damaged`,
        );
      }
      await store.db.batch(
        [{ type: 'put', key: META_KEY, value: new TextEncoder().encode(setIdentity), sublevel: wal.#sub } as never],
        {
          sync: true,
        },
      );
      return { wal, records: [] };
    }
    const stored = new TextDecoder().decode(meta);
    if (stored !== setIdentity) {
      throw new ConfigError(
        `the PBFT log in ${store.dir} belongs to another validator set (${describeIdentity(stored)}), not the configured one (${describeIdentity(setIdentity)}); point consensus.validatorSet at the set this node ran with, or move the data dir aside to join the new set as a fresh node`,
      );
    }
    // The batches read so far, by seq then digest, for the records written without theirs
    // (keys sort by seq, then by append order: the record holding a batch comes first).
    const logged = new Map<number, Map<string, readonly PbftRequest[]>>();
    const batchAt = (seq: number, digest: Uint8Array) => logged.get(seq)?.get(latin1(digest));
    for await (const [key, value] of sub.iterator({ gt: META_KEY })) {
      let record: PbftWalRecord;
      try {
        record = decodeWalRecord(value, batchAt);
      } catch (err) {
        throw new StoreError(
          `PBFT log record ${hex(key)} in ${store.dir} does not decode (${(err as Error).message}); the database is damaged`,
        );
      }
      if (key[0] === SEQ_PREFIX && key.length === 17) {
        const dv = new DataView(key.buffer, key.byteOffset, key.byteLength);
        const seq = Number(dv.getBigUint64(1));
        const counter = Number(dv.getBigUint64(9));
        wal.#counter = Math.max(wal.#counter, counter + 1);
        const keys = wal.#bySeq.get(seq) ?? [];
        keys.push(new Uint8Array(key));
        wal.#bySeq.set(seq, keys);
        seqRecords.push(record);
        const held = walRecordBatch(record);
        if (held !== null) {
          const bySeq = logged.get(held.seq) ?? new Map<string, readonly PbftRequest[]>();
          bySeq.set(latin1(held.digest), held.batch);
          logged.set(held.seq, bySeq);
          wal.#noteBatch(held.seq, latin1(held.digest));
        }
      } else if (key[0] === VIEW_PREFIX && key.length === 2) {
        const kind = viewLevelKind(record);
        if (kind === null || VIEW_KINDS[kind] !== key[1]) {
          throw new StoreError(
            `PBFT log record ${hex(key)} in ${store.dir} is a ${record.kind} record under another kind's key`,
          );
        }
        views.set(kind, record);
        wal.#viewKinds.add(key[1]!);
        if (kind === 'stable') wal.#stableSeq = walRecordSeq(record) ?? 0;
      } else {
        throw new StoreError(`unexpected key ${hex(key)} in the pbft-wal bucket of ${store.dir}`);
      }
    }
    const records: PbftWalRecord[] = [];
    for (const kind of ['stable', 'view', 'new-view', 'view-change'] as const) {
      const r = views.get(kind);
      if (r !== undefined) records.push(r);
    }
    // The batch that wrote the checkpoint deleted the records at or below it, so none
    // should be left; the filter costs nothing and recovery would ignore them anyway.
    records.push(...seqRecords.filter((r) => (walRecordSeq(r) ?? 0) > wal.#stableSeq));
    return { wal, records };
  }

  #noteBatch(seq: number, digest: string): void {
    const held = this.#batches.get(seq);
    if (held === undefined) this.#batches.set(seq, new Set([digest]));
    else held.add(digest);
  }

  stats(): PbftWalStats {
    let n = this.#viewKinds.size;
    for (const keys of this.#bySeq.values()) n += keys.length;
    return { records: n, stableSeq: this.#stableSeq };
  }

  /**
   * Appends records as one atomic batch, fsync'd before the promise resolves. Records
   * of several outputs may be passed together (group commit); their order is kept.
   */
  async append(records: readonly PbftWalRecord[]): Promise<void> {
    if (records.length === 0) return;
    let stable = this.#stableSeq;
    for (const r of records) if (r.kind === 'stable') stable = Math.max(stable, walRecordSeq(r) ?? 0);
    const ops: { type: 'put' | 'del'; key: Uint8Array; value?: Uint8Array }[] = [];
    const added = new Map<number, Uint8Array[]>();
    /** Batches this append writes (seq:digest), which its later records may leave out. */
    const addedBatches: [seq: number, digest: string][] = [];
    for (const r of records) {
      const kind = viewLevelKind(r);
      if (kind === 'stable') {
        const seq = walRecordSeq(r) ?? 0;
        if (seq < stable) continue; // older than the checkpoint the log already starts from
        ops.push({ type: 'put', key: Uint8Array.of(VIEW_PREFIX, VIEW_KINDS.stable), value: encodeWalRecord(r) });
      } else if (kind !== null) {
        ops.push({ type: 'put', key: Uint8Array.of(VIEW_PREFIX, VIEW_KINDS[kind]), value: encodeWalRecord(r) });
      } else {
        const seq = walRecordSeq(r) ?? 0;
        if (seq <= stable) continue; // obsolete already: the checkpoint in this batch covers it
        const key = seqKey(seq, this.#counter++);
        const held = walRecordBatch(r);
        const digest = held === null ? '' : latin1(held.digest);
        const logged =
          held !== null &&
          (this.#batches.get(held.seq)?.has(digest) === true ||
            addedBatches.some(([s, d]) => s === held.seq && d === digest));
        ops.push({ type: 'put', key, value: encodeWalRecord(r, logged) });
        if (held !== null && !logged) addedBatches.push([held.seq, digest]);
        const keys = added.get(seq) ?? [];
        keys.push(key);
        added.set(seq, keys);
      }
    }
    const obsolete: number[] = [];
    if (stable > this.#stableSeq) {
      for (const [seq, keys] of this.#bySeq) {
        if (seq > stable) continue;
        obsolete.push(seq);
        for (const key of keys) ops.push({ type: 'del', key });
      }
    }
    if (ops.length === 0) return;
    await this.#store.db.batch(
      ops.map((op) => ({ ...op, sublevel: this.#sub }) as never),
      { sync: true },
    );
    // Only once it is on disk does the index change.
    for (const seq of obsolete) {
      this.#bySeq.delete(seq);
      this.#batches.delete(seq);
    }
    for (const [seq, digest] of addedBatches) if (seq > stable) this.#noteBatch(seq, digest);
    for (const [seq, keys] of added) {
      const held = this.#bySeq.get(seq);
      if (held === undefined) this.#bySeq.set(seq, keys);
      else held.push(...keys);
    }
    for (const op of ops) if (op.key[0] === VIEW_PREFIX) this.#viewKinds.add(op.key[1]!);
    this.#stableSeq = stable;
  }
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');

function describeIdentity(identity: string): string {
  try {
    const o = JSON.parse(identity) as { chainId?: string; validators?: string[] };
    return `chain ${o.chainId}, ${o.validators?.length} validators`;
  } catch {
    return 'unreadable';
  }
}
