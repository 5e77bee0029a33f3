/**
 * Figures of a kill phase, from a node's SUSPECT transitions: pure, shared by the
 * membership benchmarks and tested in testnet/test/heartbeat-load.test.ts.
 */
import { percentile } from '../scripts/bench-testnet.ts';

/** A transition of a peer to SUSPECT, as a node's membership service reported it. */
export interface SuspicionRecord {
  peerId: string;
  /** When the node reported it: absoluteNow() in its process, comparable across processes. */
  at: number;
  /** Transition.sinceLastHeartbeatMs: from the peer's last accepted heartbeat to SUSPECT. */
  sinceLastHeartbeatMs: number;
}

/** p50, p99 and max of some durations, ms. */
export interface Spread {
  p50: number;
  p99: number;
  max: number;
}

/** A stopped origin: the peer id the node knows it by, and when it stopped (absoluteNow). */
export interface Victim {
  peerId: string;
  killedAt: number;
  /** How far into the heartbeat interval it stopped: ms past the phase of its last wave. */
  phaseMs: number;
}

/** What a kill phase showed, from the node's SUSPECT transitions. */
export interface KillFigures {
  killed: number;
  /** Victims that went SUSPECT after their kill. */
  suspected: number;
  /** Victims with no SUSPECT after their kill. */
  neverSuspected: string[];
  /** SUSPECT transitions, in the kill phase, of peers not stopped (or not stopped yet). */
  falseSuspicions: number;
  falselySuspected: string[];
  /** From the kill to the victim's first SUSPECT after it; null if none was suspected. */
  killToSuspectMs: Spread | null;
  /** The same transitions' sinceLastHeartbeatMs: the node's own detection latency. */
  lastHeartbeatToSuspectMs: Spread | null;
  /**
   * A check on the kill itself: when each suspected victim's last heartbeat reached the
   * node, in ms after the phase of the last wave before its kill (SUSPECT time, less
   * sinceLastHeartbeatMs, less the kill time, plus its phaseMs). From 0 to the wave's
   * length (~100-300 ms) if the heartbeat it sent before its kill arrived and none
   * after; below 0, that one was lost; a second or more, a later one was sent.
   */
  lastHeartbeatAfterPhaseMs: { min: number; max: number } | null;
}

/** When victim `k` of `count` is stopped: at (k + 1/2) / count of the interval, in ms past a whole interval. */
export function killPhaseMs(k: number, count: number, intervalMs: number): number {
  return ((k + 0.5) / count) * intervalMs;
}

function spread(values: number[]): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: Math.round(percentile(sorted, 50)),
    p99: Math.round(percentile(sorted, 99)),
    max: Math.round(sorted[sorted.length - 1] as number),
  };
}

/**
 * The kill phase's figures from the node's SUSPECT transitions: each victim's first
 * SUSPECT after its kill counts; any other SUSPECT from `since` (the phase's start) on,
 * of a peer not stopped or before its stop, is a false suspicion.
 */
export function killFigures(
  victims: readonly Victim[],
  suspicions: readonly SuspicionRecord[],
  since: number,
): KillFigures {
  const killedAt = new Map(victims.map((v) => [v.peerId, v.killedAt]));
  const first = new Map<string, SuspicionRecord>();
  const falselySuspected: string[] = [];
  for (const s of suspicions) {
    if (s.at < since) continue;
    const killed = killedAt.get(s.peerId);
    if (killed === undefined || s.at < killed) falselySuspected.push(s.peerId);
    else if (!first.has(s.peerId)) first.set(s.peerId, s);
  }
  const found = [...first.values()];
  const victim = new Map(victims.map((v) => [v.peerId, v]));
  const afterPhase = found.map((s) => {
    const v = victim.get(s.peerId) as Victim;
    return s.at - s.sinceLastHeartbeatMs - v.killedAt + v.phaseMs;
  });
  return {
    killed: victims.length,
    suspected: found.length,
    neverSuspected: victims.filter((v) => !first.has(v.peerId)).map((v) => v.peerId),
    falseSuspicions: falselySuspected.length,
    falselySuspected,
    killToSuspectMs: spread(found.map((s) => s.at - (killedAt.get(s.peerId) as number))),
    lastHeartbeatToSuspectMs: spread(found.map((s) => s.sinceLastHeartbeatMs)),
    lastHeartbeatAfterPhaseMs:
      afterPhase.length === 0
        ? null
        : { min: Math.round(Math.min(...afterPhase)), max: Math.round(Math.max(...afterPhase)) },
  };
}
