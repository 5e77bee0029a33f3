/**
 * Accepted PCI envelopes in LevelDB: the envelope by id, and an arrival index
 * so listings page in the order this node accepted them. Both keys of one
 * envelope are written in one atomic batch; writes are serialised so that the
 * same envelope arriving over HTTP and gossip at once is stored once.
 */

import { Bucket } from '../store/buckets.ts';
import type { Store } from '../store/store.ts';

export type PciSource = 'http' | 'stream' | 'gossip';

export interface StoredEnvelope {
  id: string;
  seq: number;
  receivedAt: string;
  source: PciSource;
  /** The peer it came from (stream and gossip), absent for HTTP. */
  fromPeer?: string;
  /** The envelope's wire bytes, exactly as verified. */
  bytes: Uint8Array;
}

interface Record {
  seq: number;
  receivedAt: string;
  source: PciSource;
  fromPeer?: string;
  bytes: string;
}

const SEQ_WIDTH = 16;
const seqKey = (seq: number) => String(seq).padStart(SEQ_WIDTH, '0');

export class PciStore {
  private readonly envelopes;
  private readonly arrival;
  private readonly db;
  private nextSeq = 1;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(store: Store) {
    this.db = store.db;
    this.envelopes = store.db.sublevel<string, Record>(Bucket.pciEnvelopes, {
      keyEncoding: 'utf8',
      valueEncoding: 'json',
    });
    this.arrival = store.db.sublevel<string, string>(Bucket.pciArrival, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  }

  /** Opens the buckets and finds the next sequence number from the last one stored. */
  static async open(store: Store): Promise<PciStore> {
    const pci = new PciStore(store);
    const last = await pci.arrival.keys({ reverse: true, limit: 1 }).all();
    pci.nextSeq = last[0] === undefined ? 1 : Number(last[0]) + 1;
    return pci;
  }

  /** Stores an accepted envelope; false when it was already stored. */
  put(entry: {
    id: string;
    bytes: Uint8Array;
    source: PciSource;
    fromPeer?: string;
    receivedAtMs: number;
  }): Promise<boolean> {
    const run = this.queue.then(async () => {
      if ((await this.envelopes.get(entry.id)) !== undefined) return false;
      const seq = this.nextSeq;
      const record: Record = {
        seq,
        receivedAt: new Date(entry.receivedAtMs).toISOString(),
        source: entry.source,
        ...(entry.fromPeer ? { fromPeer: entry.fromPeer } : {}),
        bytes: Buffer.from(entry.bytes).toString('base64'),
      };
      await this.db
        .batch()
        .put(entry.id, record, { sublevel: this.envelopes })
        .put(seqKey(seq), entry.id, { sublevel: this.arrival })
        .write();
      this.nextSeq = seq + 1;
      return true;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async get(id: string): Promise<StoredEnvelope | undefined> {
    const record = await this.envelopes.get(id);
    return record === undefined ? undefined : toStored(id, record);
  }

  async has(id: string): Promise<boolean> {
    return (await this.envelopes.get(id)) !== undefined;
  }

  /**
   * Up to `limit` envelopes in arrival order, starting after the envelope
   * `after` (an id from an earlier page). `next` is the cursor for the next
   * page, absent on the last one. An unknown `after` id is an error.
   */
  async list(opts: { limit: number; after?: string }): Promise<{ items: StoredEnvelope[]; next?: string }> {
    let gt = '';
    if (opts.after !== undefined) {
      const from = await this.envelopes.get(opts.after);
      if (from === undefined) throw new UnknownCursorError(opts.after);
      gt = seqKey(from.seq);
    }
    const ids = await this.arrival.values({ gt, limit: opts.limit + 1 }).all();
    const page = ids.slice(0, opts.limit);
    const records = await this.envelopes.getMany(page);
    const items = page.flatMap((id, i) => {
      const record = records[i];
      return record === undefined ? [] : [toStored(id, record)];
    });
    const last = items[items.length - 1];
    return ids.length > opts.limit && last ? { items, next: last.id } : { items };
  }

  /** How many envelopes are stored. */
  get count(): number {
    return this.nextSeq - 1;
  }
}

export class UnknownCursorError extends Error {
  override readonly name = 'UnknownCursorError';
  constructor(id: string) {
    super(`no stored envelope has id ${id}; pass an id from an earlier page as "after"`);
  }
}

function toStored(id: string, r: Record): StoredEnvelope {
  return {
    id,
    seq: r.seq,
    receivedAt: r.receivedAt,
    source: r.source,
    ...(r.fromPeer ? { fromPeer: r.fromPeer } : {}),
    bytes: new Uint8Array(Buffer.from(r.bytes, 'base64')),
  };
}
