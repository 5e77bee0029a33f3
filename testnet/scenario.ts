/**
 * The membership scenario of `npm run testnet -- --kill K [--restart]`: wait
 * until every node sees every other ACTIVE, stop K seeded-random nodes, time
 * until every survivor marks each of them SUSPECT and then DEAD, and, with
 * --restart, start them again and time until every node sees them ACTIVE.
 */
import type { Transition } from '../consensus/membership/index.ts';
import type { BizraNode } from '../node/node.ts';
import { type Cluster, mulberry32 } from './cluster.ts';
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

const POLL_MS = 50;

function activeEverywhere(nodes: readonly BizraNode[]): boolean {
  return nodes.every((n) => n.membership.view.counts().ACTIVE === nodes.length - 1);
}

async function until(predicate: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<number | null> {
  const start = performance.now();
  while (!predicate()) {
    if (signal?.aborted || performance.now() - start > timeoutMs) return null;
    await sleep(POLL_MS, signal);
  }
  return Math.round(performance.now() - start);
}

export async function runKillScenario(cluster: Cluster, opts: ScenarioOptions): Promise<ScenarioReport> {
  const say = opts.progress ?? (() => undefined);
  const nodes = cluster.nodes;
  say(`waiting until all ${nodes.length} nodes see each other ACTIVE`);
  const allActiveMs = await until(() => activeEverywhere(cluster.nodes), opts.phaseTimeoutMs, opts.signal);
  const report: ScenarioReport = { peers: nodes.length, allActiveMs, kills: [], falseSuspicions: 0 };
  if (opts.kill === 0 || allActiveMs === null) return report;

  const rand = mulberry32(opts.seed);
  const victims = new Set<number>();
  while (victims.size < Math.min(opts.kill, nodes.length - 1)) victims.add(Math.floor(rand() * nodes.length));
  const victimIds = new Map([...victims].map((i) => [(nodes[i] as BizraNode).peerId.toString(), i]));
  const survivors = nodes.filter((_, i) => !victims.has(i));
  const suspicions: Transition[] = [];
  const unsubscribe = survivors.map((s) =>
    s.membership.onTransition((t) => {
      if (t.to === 'SUSPECT') suspicions.push(t);
    }),
  );

  say(`stopping ${victims.size} node(s): ${[...victims].join(', ')}`);
  const killedAt = performance.now();
  await Promise.all([...victims].map((i) => (nodes[i] as BizraNode).stop()));
  const everywhere = (id: string, state: string) => () =>
    survivors.every((s) => s.membership.view.get(id)?.state === state);
  for (const [id, index] of victimIds) {
    const suspect = await until(everywhere(id, 'SUSPECT'), opts.phaseTimeoutMs, opts.signal);
    const detection = suspicions.filter((t) => t.peerId === id).map((t) => t.sinceLastHeartbeatMs);
    report.kills.push({
      index,
      peerId: id,
      allSuspectMs: suspect === null ? null : Math.round(performance.now() - killedAt),
      allDeadMs: null,
      maxDetectionMs: detection.length > 0 ? Math.round(Math.max(...detection)) : null,
    });
  }
  say('every stopped node is SUSPECT on every survivor; waiting for DEAD');
  for (const k of report.kills) {
    const dead = await until(everywhere(k.peerId, 'DEAD'), opts.phaseTimeoutMs, opts.signal);
    k.allDeadMs = dead === null ? null : Math.round(performance.now() - killedAt);
  }
  report.falseSuspicions = suspicions.filter((t) => !victimIds.has(t.peerId)).length;
  for (const u of unsubscribe) u();

  if (opts.restart) {
    for (const k of report.kills) {
      say(`restarting node ${k.index}`);
      const restartedAt = performance.now();
      await cluster.restart(k.index);
      const back = await until(
        () =>
          cluster.nodes.every(
            (n, i) => i === k.index || victims.has(i) || n.membership.view.get(k.peerId)?.state === 'ACTIVE',
          ),
        opts.phaseTimeoutMs,
        opts.signal,
      );
      k.rejoinMs = back === null ? null : Math.round(performance.now() - restartedAt);
      victims.delete(k.index);
    }
  }
  return report;
}
