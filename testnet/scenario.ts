/**
 * The membership scenario of `npm run testnet -- --kill K [--restart]`: wait
 * until every node sees every other ACTIVE, stop K seeded-random nodes, time
 * until every survivor marks each of them SUSPECT and then DEAD, and, with
 * --restart, start them again and time until every node sees them ACTIVE.
 */
import { mulberry32 } from './cluster.ts';
import { absoluteNow, type ClusterHandle, type ObservedTransition } from './handle.ts';
import { sleep } from './mesh.ts';

export interface KillReport {
  index: number;
  peerId: string;
  /** ms from the kill until the last survivor marked it SUSPECT (null: not within the time limit). */
  allSuspectMs: number | null;
  /** ms from the kill until the last survivor marked it DEAD. */
  allDeadMs: number | null;
  /** Largest time from its last heartbeat to SUSPECT on any survivor (the detector's own latency). */
  maxDetectionMs: number | null;
  /** ms from the restart until every other node saw it ACTIVE again (with --restart). */
  rejoinMs?: number | null;
}

export interface ScenarioReport {
  peers: number;
  /** ms from the end of start-up until every node saw every other ACTIVE (null: never within the limit). */
  allActiveMs: number | null;
  kills: KillReport[];
  /** SUSPECT transitions of nodes that were never stopped (should be 0). */
  falseSuspicions: number;
}

export interface ScenarioOptions {
  kill: number;
  restart: boolean;
  seed: number;
  /** Longest wait for each phase. */
  phaseTimeoutMs: number;
  signal?: AbortSignal;
  progress?: (line: string) => void;
}

const POLL_MS = 100;

async function until(
  predicate: () => Promise<boolean>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<number | null> {
  const start = absoluteNow();
  while (!(await predicate())) {
    if (signal?.aborted || absoluteNow() - start > timeoutMs) return null;
    await sleep(POLL_MS, signal);
  }
  return Math.round(absoluteNow() - start);
}

/** Every running node sees every other node ACTIVE. */
async function activeEverywhere(cluster: ClusterHandle): Promise<boolean> {
  return (await cluster.activeCounts()).every((c) => c === null || c === cluster.size - 1);
}

export async function runKillScenario(cluster: ClusterHandle, opts: ScenarioOptions): Promise<ScenarioReport> {
  const say = opts.progress ?? (() => undefined);
  const size = cluster.size;
  say(`waiting until all ${size} nodes see each other ACTIVE`);
  const allActiveMs = await until(() => activeEverywhere(cluster), opts.phaseTimeoutMs, opts.signal);
  const report: ScenarioReport = { peers: size, allActiveMs, kills: [], falseSuspicions: 0 };
  if (opts.kill === 0 || allActiveMs === null) return report;

  const rand = mulberry32(opts.seed);
  const victims = new Set<number>();
  while (victims.size < Math.min(opts.kill, size - 1)) victims.add(Math.floor(rand() * size));
  const victimIds = new Map([...victims].map((i) => [cluster.peerId(i), i]));
  const suspicions: ObservedTransition[] = [];
  const unsubscribe = cluster.onSuspicion((t) => {
    if (t.to === 'SUSPECT' && !victims.has(t.observer)) suspicions.push(t);
  });

  say(`stopping ${victims.size} node(s): ${[...victims].join(', ')}`);
  // Each victim's clock starts when it stopped heartbeating, read in its own thread.
  const killedAt = new Map<number, number>();
  await Promise.all([...victims].map(async (i) => killedAt.set(i, await cluster.stop(i))));
  // Stopped observers answer null; every running one must agree.
  const everywhere = (id: string, state: string) => async () =>
    (await cluster.statesOf(id)).every((s) => s === null || s === state);
  for (const [id, index] of victimIds) {
    const suspect = await until(everywhere(id, 'SUSPECT'), opts.phaseTimeoutMs, opts.signal);
    const detection = suspicions.filter((t) => t.peerId === id).map((t) => t.sinceLastHeartbeatMs);
    report.kills.push({
      index,
      peerId: id,
      allSuspectMs: suspect === null ? null : Math.round(absoluteNow() - killedAt.get(index)!),
      allDeadMs: null,
      maxDetectionMs: detection.length > 0 ? Math.round(Math.max(...detection)) : null,
    });
  }
  say('every stopped node is SUSPECT on every survivor; waiting for DEAD');
  for (const k of report.kills) {
    const dead = await until(everywhere(k.peerId, 'DEAD'), opts.phaseTimeoutMs, opts.signal);
    k.allDeadMs = dead === null ? null : Math.round(absoluteNow() - killedAt.get(k.index)!);
  }
  report.falseSuspicions = suspicions.filter((t) => !victimIds.has(t.peerId)).length;
  unsubscribe();

  if (opts.restart) {
    for (const k of report.kills) {
      say(`restarting node ${k.index}`);
      const restartedAt = absoluteNow();
      await cluster.restart(k.index);
      const back = await until(
        async () =>
          (await cluster.statesOf(k.peerId)).every(
            (s, i) => i === k.index || victims.has(i) || s === null || s === 'ACTIVE',
          ),
        opts.phaseTimeoutMs,
        opts.signal,
      );
      k.rejoinMs = back === null ? null : Math.round(absoluteNow() - restartedAt);
      victims.delete(k.index);
    }
  }
  return report;
}
