import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import { describe, expect, it } from 'vitest';
import { Bucket, MetaKey, RETIRED_BUCKETS, SCHEMA_VERSION } from '../store/buckets.ts';
import { Store, StoreError } from '../store/store.ts';
import { useTempDirs } from './helpers.ts';

describe('bucket registry', () => {
  it('never reuses a name, live or retired', () => {
    const live = Object.values(Bucket);
    expect(new Set(live).size).toBe(live.length);
    for (const name of live) expect(RETIRED_BUCKETS).not.toContain(name);
  });
});

describe('store', () => {
  const tmp = useTempDirs();
  const dir = () => join(tmp(), 'db');

  it('writes the schema version on first open and counts boots across reopen', async () => {
    const path = dir();
    let store = await Store.open(path);
    expect(await store.meta.get(MetaKey.schemaVersion)).toBe(SCHEMA_VERSION);
    expect((await store.recordBoot(new Date('2026-01-01T00:00:00Z'))).bootCount).toBe(1);
    await store.close();
    store = await Store.open(path);
    const second = await store.recordBoot(new Date('2026-01-02T00:00:00Z'));
    expect(second.bootCount).toBe(2);
    expect(second.lastBootAt).toBe('2026-01-02T00:00:00.000Z');
    await store.close();
  });

  it('refuses a database from a newer schema', async () => {
    const path = dir();
    const store = await Store.open(path);
    await store.meta.put(MetaKey.schemaVersion, SCHEMA_VERSION + 1);
    await store.close();
    await expect(Store.open(path)).rejects.toThrow(/written by a newer bizra \(schema 2\); this build reads schema 1/);
  });

  it('refuses a LevelDB that is not ours', async () => {
    const path = dir();
    const other = new Level(path);
    await other.put('foo', 'bar');
    await other.close();
    await expect(Store.open(path)).rejects.toThrow(/not a bizra database/);
  });

  it('explains a database locked by another handle', async () => {
    const path = dir();
    const store = await Store.open(path);
    await expect(Store.open(path)).rejects.toThrow(StoreError);
    await expect(Store.open(path)).rejects.toThrow(/is locked by another process/);
    await store.close();
  });

  it('explains a corrupt database instead of crashing', async () => {
    const path = dir();
    const store = await Store.open(path);
    await store.recordBoot(new Date());
    await store.close();
    const manifest = readdirSync(path).find((f) => f.startsWith('MANIFEST-'));
    expect(manifest).toBeDefined();
    writeFileSync(join(path, manifest as string), Buffer.alloc(300, 0xab));
    const err = await Store.open(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(new RegExp(`database ${path} is corrupt`));
  });

  it('ping fails once closed', async () => {
    const store = await Store.open(dir());
    await store.ping();
    await store.close();
    expect(store.isOpen).toBe(false);
    await expect(store.ping()).rejects.toThrow();
  });
});
