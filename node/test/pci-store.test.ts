import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PciStore, UnknownCursorError } from '../pci/pci-store.ts';
import { Store } from '../store/store.ts';
import { useTempDirs } from './helpers.ts';

const entry = (i: number) => ({
  id: `id${String(i).padStart(3, '0')}`,
  bytes: new Uint8Array([i, i + 1]),
  source: 'http' as const,
  receivedAtMs: Date.UTC(2026, 0, 1) + i,
});

describe('PCI envelope store', () => {
  const dir = useTempDirs();

  it('stores once, reads back, and pages in arrival order across a reopen', async () => {
    const path = join(dir(), 'db');
    let store = await Store.open(path);
    let pci = await PciStore.open(store);
    // Ids deliberately not in arrival order: listing must follow arrival, not id.
    for (const i of [5, 1, 9, 3]) expect(await pci.put(entry(i))).toBe(true);
    expect(await pci.put(entry(5))).toBe(false);
    expect(pci.count).toBe(4);
    const got = await pci.get('id009');
    expect(got).toMatchObject({ id: 'id009', seq: 3, source: 'http', receivedAt: '2026-01-01T00:00:00.009Z' });
    expect(Array.from(got?.bytes ?? [])).toEqual([9, 10]);
    await store.close();

    store = await Store.open(path);
    pci = await PciStore.open(store);
    await pci.put({ ...entry(7), source: 'gossip', fromPeer: '12D3KooWpeer' });
    const first = await pci.list({ limit: 2 });
    expect(first.items.map((e) => e.id)).toEqual(['id005', 'id001']);
    expect(first.next).toBe('id001');
    const second = await pci.list({ limit: 2, after: first.next });
    expect(second.items.map((e) => e.id)).toEqual(['id009', 'id003']);
    const third = await pci.list({ limit: 2, after: second.next });
    expect(third.items.map((e) => [e.id, e.seq, e.fromPeer])).toEqual([['id007', 5, '12D3KooWpeer']]);
    expect(third.next).toBeUndefined();
    await store.close();
  });

  it('stores an envelope that arrives twice at once only once', async () => {
    const store = await Store.open(join(dir(), 'db'));
    const pci = await PciStore.open(store);
    const results = await Promise.all([
      pci.put(entry(1)),
      pci.put({ ...entry(1), source: 'gossip' }),
      pci.put(entry(2)),
    ]);
    expect(results).toEqual([true, false, true]);
    expect((await pci.list({ limit: 10 })).items.map((e) => e.seq)).toEqual([1, 2]);
    await store.close();
  });

  it('refuses an unknown cursor', async () => {
    const store = await Store.open(join(dir(), 'db'));
    const pci = await PciStore.open(store);
    await expect(pci.list({ limit: 1, after: 'nope' })).rejects.toThrow(UnknownCursorError);
    await store.close();
  });
});
