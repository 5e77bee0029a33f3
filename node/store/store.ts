/**
 * The node's LevelDB: one database per data dir, typed sublevels from the
 * bucket registry, a schema version checked at open, atomic batches for every
 * multi-key write. Open failures become StoreErrors with a message an operator
 * can act on.
 */
import { LevelDatastore } from 'datastore-level';
import { Level } from 'level';
import { StoreError } from '../errors.ts';
import { Bucket, MetaKey, SCHEMA_VERSION } from './buckets.ts';

export { StoreError };

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

export interface BootRecord {
  bootCount: number;
  createdAt: string;
  lastBootAt: string;
}

export class Store {
  readonly dir: string;
  readonly db: Level<string, Uint8Array>;
  readonly meta;
  private closed = false;

  private constructor(dir: string, db: Level<string, Uint8Array>) {
    this.dir = dir;
    this.db = db;
    this.meta = db.sublevel<string, Json>(Bucket.meta, { keyEncoding: 'utf8', valueEncoding: 'json' });
  }

  /** Opens (creating if needed) the database and checks its schema version. */
  static async open(dir: string): Promise<Store> {
    const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
    try {
      await db.open();
    } catch (err) {
      throw explainOpenError(dir, err);
    }
    const store = new Store(dir, db);
    try {
      await store.checkSchema();
    } catch (err) {
      await db.close();
      throw err;
    }
    return store;
  }

  get isOpen(): boolean {
    return !this.closed && this.db.status === 'open';
  }

  private async checkSchema(): Promise<void> {
    const found = await this.meta.get(MetaKey.schemaVersion);
    if (found === undefined) {
      if (!(await this.isEmpty())) {
        throw new StoreError(`${this.dir} holds data but no bizra schema version; it is not a bizra database`);
      }
      await this.putMetaDurably({
        [MetaKey.schemaVersion]: SCHEMA_VERSION,
        [MetaKey.createdAt]: new Date().toISOString(),
      });
      return;
    }
    if (typeof found !== 'number' || !Number.isInteger(found)) {
      throw new StoreError(
        `${this.dir}: schema version ${JSON.stringify(found)} is not an integer; the database is damaged`,
      );
    }
    if (found > SCHEMA_VERSION) {
      throw new StoreError(
        `${this.dir} was written by a newer bizra (schema ${found}); this build reads schema ${SCHEMA_VERSION}. Upgrade bizra.`,
      );
    }
    if (found < SCHEMA_VERSION) {
      throw new StoreError(`${this.dir} has schema ${found} and no migration to ${SCHEMA_VERSION} exists`);
    }
  }

  private async isEmpty(): Promise<boolean> {
    const keys = await this.db.keys({ limit: 1 }).all();
    return keys.length === 0;
  }

  /** Counts this start and stamps it, durably, in one atomic batch. */
  async recordBoot(now: Date): Promise<BootRecord> {
    const [count, createdAt] = await this.meta.getMany([MetaKey.bootCount, MetaKey.createdAt]);
    const bootCount = (typeof count === 'number' ? count : 0) + 1;
    const lastBootAt = now.toISOString();
    await this.putMetaDurably({ [MetaKey.bootCount]: bootCount, [MetaKey.lastBootAt]: lastBootAt });
    return { bootCount, createdAt: String(createdAt ?? lastBootAt), lastBootAt };
  }

  /** Writes several meta keys in one atomic, fsync'd batch. */
  private async putMetaDurably(entries: Record<string, Json>): Promise<void> {
    const ops = Object.entries(entries).map(([key, value]) => ({
      type: 'put' as const,
      sublevel: this.meta,
      key,
      value,
    }));
    await this.db.batch(ops, { sync: true });
  }

  /**
   * A libp2p datastore over the `libp2p` bucket, so the peer store survives a
   * restart. Closing it is a no-op: the store owns the database.
   */
  libp2pDatastore(): LevelDatastore {
    const sub = this.db.sublevel<string, Uint8Array>(Bucket.libp2p, { keyEncoding: 'utf8', valueEncoding: 'view' });
    const ds = new LevelDatastore(sub as unknown as Level<string, Uint8Array>);
    ds.close = async () => undefined;
    return ds;
  }

  /** A cheap read that proves the database answers; used by /health. */
  async ping(): Promise<void> {
    await this.meta.get(MetaKey.schemaVersion);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }
}

function explainOpenError(dir: string, err: unknown): StoreError {
  const e = err as { code?: string; cause?: { code?: string; message?: string }; message?: string };
  const code = e.cause?.code ?? e.code;
  const detail = e.cause?.message ?? e.message ?? String(err);
  switch (code) {
    case 'LEVEL_LOCKED':
      return new StoreError(
        `database ${dir} is locked by another process (is another bizra daemon running on this data dir?)`,
      );
    case 'LEVEL_CORRUPTION':
      return new StoreError(`database ${dir} is corrupt: ${detail}. Restore it from a backup or move it aside.`);
    case 'LEVEL_IO_ERROR':
      return new StoreError(`database ${dir} cannot be read or written: ${detail}`);
    default:
      return new StoreError(`cannot open database ${dir}: ${detail}`);
  }
}
