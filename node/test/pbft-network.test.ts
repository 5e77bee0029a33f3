/**
 * PBFT over real libp2p: 4 and 7 validators in this process (the daemon's wiring: WAL in
 * LevelDB, /bizra/pbft/1.0.0 streams, timers), clients keeping them busy, and the
 * primary killed mid-load. Commits must resume after a view change, and every
 * replica's committed log must be the same. And with the primary dead from the start, a
 * request that only one backup's node knows of must still commit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeKvOperation } from '../../consensus/pbft/kv-app.ts';
import { signRequest } from '../../protocol/pbft/sign.ts';
import { type Cluster, startCluster } from '../../testnet/cluster.ts';
import { silentLogger } from './helpers.ts';
import { CommittedLogs, clientSigner, runLoad, until } from './pbft-helpers.ts';

/** n validators over libp2p with short timeouts, every PBFT stream open. */
async function startValidators(n: number): Promise<Cluster> {
  const c = await startCluster(
    {
      peers: n,
      api: false,
      degree: n,
      pbft: { validators: n, params: { checkpointInterval: 16, logWindow: 64, batchSize: 16 } },
      tune: (config) => {
        config.p2p.dht = false;
        config.consensus.viewChangeTimeoutMs = 400;
        config.consensus.statusIntervalMs = 200;
      },
    },
    { logger: silentLogger() },
  );
  try {
    await until('every stream open', () => c.nodes.every((x) => x.consensus?.streams() === n - 1), 10_000);
  } catch (err) {
    await c.stop();
    throw err;
  }
  return c;
}

describe('PBFT over libp2p', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  for (const n of [4, 7]) {
    it(`${n} validators: the primary dies mid-load, commits resume in a new view, logs agree`, async () => {
      cluster = await startValidators(n);
      const c = cluster;
      const logs = new CommittedLogs();
      for (const node of c.nodes) logs.watch(node);

      const stop = new AbortController();
      const dead = new Set<number>();
      const load = runLoad(() => c.nodes, { clients: 6, isLive: (i) => !dead.has(i), stop: stop.signal });
      try {
        await until('150 commits in view 0', () => load.stats.committed >= 150, 20_000);
        expect(c.nodes[0]!.consensus!.status()!.primary).toBe(0);
        dead.add(0);
        await c.nodes[0]!.stop();
        load.mark();
        await until('150 commits after the primary died', () => load.stats.after.length >= 150, 20_000);
      } finally {
        stop.abort();
        await load.done;
      }
      expect(load.stats.errors).toEqual([]);
      // Commits resumed, in a later view, with sequence numbers beyond what ran before.
      const views = load.stats.after.map((a) => a.view);
      expect(Math.max(...views)).toBeGreaterThanOrEqual(1);
      const live = c.nodes.slice(1);
      for (const node of live) {
        const s = node.consensus!.status()!;
        expect(s.view).toBeGreaterThanOrEqual(1);
        expect(s.primary).not.toBe(0);
      }
      // Every live replica converges on the same last executed batch and state.
      await until(
        'live replicas agree on the last executed sequence',
        () => new Set(live.map((x) => x.consensus!.status()!.lastExecuted)).size === 1,
        10_000,
      );
      const last = live[0]!.consensus!.status()!.lastExecuted;
      // Past a few checkpoints (every 16): the log was garbage-collected and compacted on the way.
      expect(live[0]!.consensus!.status()!.stableCheckpoint).toBeGreaterThanOrEqual(32);
      const digests = new Set(live.map((x) => Buffer.from(x.consensus!.replica!.stateDigest()).toString('hex')));
      expect(digests.size).toBe(1);
      // Executions are reported once their WAL batch is durable: wait for the last one.
      await until(
        'every live log reaches the last sequence',
        () => live.every((x) => logs.logs.get(x.consensus!.index)!.has(last)),
        5000,
      );
      // The committed logs are the same everywhere: no sequence number with two batches,
      // and together they hold every number from 1 to the last (a replica that took a
      // state transfer skips the batches the snapshot covers).
      expect(logs.conflicts()).toEqual([]);
      const union = new Set([...logs.logs.values()].flatMap((l) => [...l.keys()]));
      for (let seq = 1; seq <= last; seq++) expect(union.has(seq), `seq ${seq} executed somewhere`).toBe(true);
      const full = live.filter((x) => logs.logs.get(x.consensus!.index)!.size === last);
      expect(full.length).toBeGreaterThanOrEqual(n - 1 - Math.floor((n - 1) / 3));
      // Metrics saw it: a view change started and the view moved on.
      const text = await live[0]!.metrics.registry.metrics();
      expect(text).toMatch(/^bizra_pbft_view_changes_total [1-9]/m);
      expect(text).toMatch(/^bizra_pbft_view [1-9]/m);
      expect(text).toMatch(new RegExp(`^bizra_pbft_executed_seq ${last}$`, 'm'));
      expect(text).toMatch(/^bizra_pbft_messages_total\{type="commit",result="accepted"\} [1-9]/m);
      // Requests waiting at backups when the primary died were handed over again (to the
      // new primary at its NEW-VIEW, if not before).
      let retransmits = 0;
      for (const node of live) {
        const m = /^bizra_pbft_request_retransmits_total (\d+)$/m.exec(await node.metrics.registry.metrics());
        retransmits += Number(m?.[1] ?? 0);
      }
      expect(retransmits).toBeGreaterThan(0);
    }, 60_000);
  }

  it('a request sent to one backup alone commits although the primary is dead (its node relays it to all)', async () => {
    // A client of node 1 only, as over HTTP. Node 1's forward goes to the dead primary, and
    // before its node relayed a waiting request to every replica (the second
    // retransmission), node 1 alone timed out and no view change ever completed.
    cluster = await startValidators(4);
    const c = cluster;
    await c.nodes[0]!.stop();
    const r = signRequest(clientSigner(0), 1, encodeKvOperation({ op: 'put', key: 'alone', value: 'v' }));
    const answer = await c.nodes[1]!.consensus!.submit(r, 30_000);
    expect(answer.ok, JSON.stringify(answer)).toBe(true);
    for (const node of c.nodes.slice(1)) {
      await until('every live replica executes it', () => node.consensus!.status()!.lastExecuted >= 1, 10_000);
      expect(node.consensus!.status()!.view).toBeGreaterThanOrEqual(1);
    }
  }, 60_000);
});
