/**
 * A testnet split over two worker threads: the nodes of both event loops form one
 * federation, and the handle answers for all of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterHandle, ObservedTransition } from '../handle.ts';
import { startWorkerCluster } from '../worker-cluster.ts';

async function until(what: string, predicate: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('worker-thread testnet', () => {
  let handle: ClusterHandle | undefined;
  let root: string | undefined;
  afterEach(async () => {
    await handle?.stopAll();
    if (root) rmSync(root, { recursive: true, force: true });
    handle = undefined;
  });

  it('6 nodes over 2 event loops see each other ACTIVE, and a node stopped in one loop is SUSPECT in both', async () => {
    root = mkdtempSync(join(tmpdir(), 'bizra-worker-cluster-'));
    const progress: number[] = [];
    handle = await startWorkerCluster({
      peers: 6,
      workers: 2,
      root,
      settings: { 'p2p.dht': false },
      onProgress: (started) => progress.push(started),
    });
    const h = handle;
    expect(h.size).toBe(6);
    expect(progress.at(-1)).toBe(6);
    expect(new Set(Array.from({ length: 6 }, (_, i) => h.peerId(i))).size).toBe(6);
    await until('all ACTIVE', async () => (await h.activeCounts()).every((c) => c === 5));

    const rows = await h.rows();
    expect(rows.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rows.every((r) => r.connections > 0)).toBe(true);
    expect(h.eventLoopUtilization()).toHaveLength(2);

    const seen: ObservedTransition[] = [];
    h.onSuspicion((t) => seen.push(t));
    const victim = h.peerId(1); // in the first loop; observers in both
    await h.stop(1);
    expect(h.isRunning(1)).toBe(false);
    await until('victim SUSPECT on every survivor', async () =>
      (await h.statesOf(victim)).every((s) => s === null || s === 'SUSPECT'),
    );
    const observers = new Set(seen.filter((t) => t.peerId === victim && t.to === 'SUSPECT').map((t) => t.observer));
    expect([...observers].sort()).toEqual([0, 2, 3, 4, 5]);
    expect(seen.every((t) => t.peerId === victim)).toBe(true);

    await h.restart(1);
    await until('restarted node ACTIVE everywhere', async () =>
      (await h.statesOf(victim)).every((s, i) => i === 1 || s === 'ACTIVE'),
    );
  });
});
