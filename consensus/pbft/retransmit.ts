/**
 * When the consensus service hands a request that is still waiting here to its replica
 * again, as a PBFT client retransmits: a backup then re-forwards it to the current
 * primary, so a forward that was lost, or sent to a primary that died, is not the end of
 * it. The first retransmission comes RETRANSMIT_BASE_MS after the request was submitted
 * and each later one after twice the gap before, up to RETRANSMIT_MAX_MS. A fixed period
 * re-forwarded every request older than a second, every second: under overload, with
 * commit latencies of several seconds (16 validators on two cores), a backup sent each
 * pending request to the primary again and again while the primary was still working
 * through them. A NEW-VIEW sends every waiting request to the new primary at once (it
 * may never have seen them) and starts the backoff again.
 *
 * From the second retransmission on (3 s after the request came in, with the defaults),
 * and for any request while the replica has left its view, the replica relays the
 * request to every replica, as a PBFT client that got no reply
 * broadcasts it (PbftReplica.relay): each backup then holds it and times out on it,
 * so a crashed or censoring primary is replaced even when the request reached only this
 * node. The first goes to the primary alone: under overload most requests wait longer
 * than a second, and relaying them all to every replica would add n - 1 messages each
 * and start every backup's view-change timer on requests the primary is still working
 * through.
 *
 * Pure, so the simulator's gateway clients (SimOptions.gatewayClients) follow the same
 * rule as the daemon.
 */
export const BROADCAST_FROM_RETRANSMISSION = 2;
export const RETRANSMIT_BASE_MS = 1000;
export const RETRANSMIT_MAX_MS = 8000;
/** How often the service looks for requests due: due times are kept to within this. */
export const RETRANSMIT_TICK_MS = 250;

export interface RetransmitState {
  /** When the request is next due (the service's clock, ms). */
  dueAtMs: number;
  /** The gap that led to dueAtMs. */
  gapMs: number;
  /** Retransmissions so far (since the request came, or since the last NEW-VIEW). */
  sent: number;
}

/** The schedule of a request submitted at `nowMs`. */
export function retransmitSchedule(nowMs: number): RetransmitState {
  return { dueAtMs: nowMs + RETRANSMIT_BASE_MS, gapMs: RETRANSMIT_BASE_MS, sent: 0 };
}

export function isDue(s: RetransmitState, nowMs: number): boolean {
  return nowMs >= s.dueAtMs;
}

/** Retransmitted at `nowMs` because it was due: the next gap is doubled (up to the cap). */
export function retransmitted(s: RetransmitState, nowMs: number): void {
  s.sent++;
  s.gapMs = Math.min(2 * s.gapMs, RETRANSMIT_MAX_MS);
  s.dueAtMs = nowMs + s.gapMs;
}

/** Sent to a new primary at `nowMs` (a NEW-VIEW): the backoff starts again. */
export function restartedInNewView(s: RetransmitState, nowMs: number): void {
  s.gapMs = RETRANSMIT_BASE_MS;
  s.dueAtMs = nowMs + RETRANSMIT_BASE_MS;
  s.sent = 0;
}

/** Whether the retransmission just counted by retransmitted() goes to every replica. */
export function broadcastsNow(s: RetransmitState): boolean {
  return s.sent >= BROADCAST_FROM_RETRANSMISSION;
}
