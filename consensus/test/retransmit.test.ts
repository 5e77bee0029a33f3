/**
 * The retransmission schedule of a waiting request (consensus/pbft/retransmit.ts): polled
 * at the service's tick, when is it handed to the replica again?
 */
import { describe, expect, it } from 'vitest';
import {
  BROADCAST_FROM_RETRANSMISSION,
  broadcastsNow,
  isDue,
  RETRANSMIT_BASE_MS,
  RETRANSMIT_MAX_MS,
  RETRANSMIT_TICK_MS,
  restartedInNewView,
  retransmitSchedule,
  retransmitted,
} from '../pbft/retransmit.ts';

/** The times (ms) at which a request submitted at 0 is retransmitted, polling every tick up to `untilMs`; `newViewAt` are NEW-VIEWs. */
function retransmissions(untilMs: number, newViewAt: readonly number[] = []): number[] {
  const s = retransmitSchedule(0);
  const sent: number[] = [];
  for (let now = RETRANSMIT_TICK_MS; now <= untilMs; now += RETRANSMIT_TICK_MS) {
    if (newViewAt.includes(now)) {
      restartedInNewView(s, now);
      sent.push(now);
    } else if (isDue(s, now)) {
      retransmitted(s, now);
      sent.push(now);
    }
  }
  return sent;
}

describe('request retransmission schedule', () => {
  it('starts after the base gap and doubles each gap up to the cap', () => {
    expect(RETRANSMIT_BASE_MS).toBe(1000);
    expect(RETRANSMIT_MAX_MS).toBe(8000);
    // Gaps 1, 2, 4, 8, 8, 8 s.
    expect(retransmissions(40_000)).toEqual([1000, 3000, 7000, 15_000, 23_000, 31_000, 39_000]);
  });

  it('is not due before its time', () => {
    const s = retransmitSchedule(500);
    expect(isDue(s, 1499)).toBe(false);
    expect(isDue(s, 1500)).toBe(true);
  });

  it('sends at a NEW-VIEW and starts the backoff again from there', () => {
    expect(retransmissions(12_000, [5000])).toEqual([1000, 3000, 5000, 6000, 8000, 12_000]);
  });

  it('relays to every replica from the second retransmission on, and again only after a NEW-VIEW restarts the count', () => {
    expect(BROADCAST_FROM_RETRANSMISSION).toBe(2);
    const s = retransmitSchedule(0);
    const toAll: boolean[] = [];
    for (const now of [1000, 3000, 7000]) {
      retransmitted(s, now);
      toAll.push(broadcastsNow(s));
    }
    expect(toAll).toEqual([false, true, true]);
    restartedInNewView(s, 8000);
    expect(broadcastsNow(s)).toBe(false);
    retransmitted(s, 9000);
    expect(broadcastsNow(s)).toBe(false);
    retransmitted(s, 11_000);
    expect(broadcastsNow(s)).toBe(true);
  });
});
