import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  defaultMembershipViewOptions,
  defaultPhiAccrualOptions,
  MembershipView,
  type MembershipViewOptions,
  type PeerState,
  type Transition,
} from '../membership/index.ts';

const SELF = 'self';
const TICK_MS = 100;

/**
 * A scripted clock: heartbeats and ticks happen in time order, as a daemon would see
 * them, with a tick every 100 ms. Every transition is collected.
 */
class Script {
  readonly view: MembershipView;
  readonly transitions: Transition[] = [];
  now = 0;
  #nextTick = TICK_MS;

  constructor(opts: Partial<MembershipViewOptions> = {}) {
    this.view = new MembershipView(opts, SELF);
  }

  /** Advances to `t`, ticking every 100 ms on the way. */
  advanceTo(t: number): void {
    while (this.#nextTick <= t) {
      this.now = this.#nextTick;
      this.transitions.push(...this.view.tick(this.now));
      this.#nextTick += TICK_MS;
    }
    this.now = t;
  }

  heartbeat(peerId: string, incarnation: number, sequence: number) {
    const result = this.view.onHeartbeat(peerId, { incarnation, sequence }, this.now);
    if (result.transition) this.transitions.push(result.transition);
    return result;
  }

  /** The peer heartbeats every `everyMs` from `from` (inclusive) to `to` (exclusive). */
  heartbeatsFor(peerId: string, incarnation: number, from: number, to: number, everyMs = 1000, seq0 = 1): number {
    let seq = seq0;
    for (let t = from; t < to; t += everyMs) {
      this.advanceTo(t);
      this.heartbeat(peerId, incarnation, seq++);
    }
    return seq;
  }

  state(peerId: string): PeerState | undefined {
    return this.view.get(peerId)?.state;
  }

  edges(peerId?: string): string[] {
    return this.transitions.filter((t) => peerId === undefined || t.peerId === peerId).map((t) => `${t.from}>${t.to}`);
  }

  /** The first transition of `peerId` into `to`. */
  find(peerId: string, to: PeerState): Transition | undefined {
    return this.transitions.find((t) => t.peerId === peerId && t.to === to);
  }
}

describe('MembershipView options', () => {
  it('has the documented defaults', () => {
    expect(defaultMembershipViewOptions).toEqual({
      phi: defaultPhiAccrualOptions,
      activeAfterHeartbeats: 3,
      deadAfterMs: 20_000,
    });
    const view = new MembershipView({ phi: { threshold: 10 } }, SELF);
    expect(view.options.phi).toEqual({ ...defaultPhiAccrualOptions, threshold: 10 });
    expect(view.options.deadAfterMs).toBe(20_000);
  });

  it('refuses bad options with a RangeError naming them', () => {
    expect(() => new MembershipView({ activeAfterHeartbeats: 0 }, SELF)).toThrow(/activeAfterHeartbeats/);
    expect(() => new MembershipView({ deadAfterMs: -1 }, SELF)).toThrow(/deadAfterMs/);
    expect(() => new MembershipView({ phi: { maxSampleSize: 0 } }, SELF)).toThrow(/maxSampleSize/);
  });
});

describe('MembershipView lifecycle', () => {
  it('goes JOINING → ACTIVE → SUSPECT → DEAD → JOINING → ACTIVE', () => {
    const s = new Script();
    const first = s.heartbeat('a', 1, 1);
    expect(first).toEqual({ accepted: true, newPeer: true });
    expect(s.state('a')).toBe('JOINING');
    expect(s.view.counts()).toEqual({ JOINING: 1, ACTIVE: 0, SUSPECT: 0, DEAD: 0 });

    s.advanceTo(1000);
    expect(s.heartbeat('a', 1, 2)).toEqual({ accepted: true });
    expect(s.state('a')).toBe('JOINING');
    s.advanceTo(2000);
    const third = s.heartbeat('a', 1, 3);
    expect(third.transition).toMatchObject({ peerId: 'a', from: 'JOINING', to: 'ACTIVE', atMs: 2000 });
    expect(s.view.counts()).toEqual({ JOINING: 0, ACTIVE: 1, SUSPECT: 0, DEAD: 0 });

    const nextSeq = s.heartbeatsFor('a', 1, 3000, 30_001, 1000, 4); // last heartbeat at 30 s
    s.advanceTo(60_000);
    const suspect = s.find('a', 'SUSPECT')!;
    const dead = s.find('a', 'DEAD')!;
    expect(suspect).toMatchObject({ from: 'ACTIVE', to: 'SUSPECT' });
    expect(suspect.phi).toBeGreaterThanOrEqual(8);
    expect(suspect.sinceLastHeartbeatMs).toBe(suspect.atMs - 30_000);
    expect(dead).toMatchObject({ from: 'SUSPECT', to: 'DEAD', atMs: suspect.atMs + 20_000 });
    expect(s.view.get('a')).toMatchObject({ state: 'DEAD', incarnation: 1, sequence: nextSeq - 1 });
    expect(s.view.get('a')?.suspectSinceMs).toBeUndefined();

    // The same process again (or a replay of it): ignored.
    expect(s.heartbeat('a', 1, nextSeq)).toEqual({ accepted: false, reason: 'stale-incarnation' });
    // A restart: JOINING, then ACTIVE after three regular heartbeats.
    const rejoin = s.heartbeat('a', 2, 1);
    expect(rejoin.accepted).toBe(true);
    expect(rejoin.transition).toMatchObject({
      from: 'DEAD',
      to: 'JOINING',
      atMs: 60_000,
      sinceLastHeartbeatMs: 30_000,
    });
    expect(s.view.get('a')?.phi).toBeLessThan(1); // a fresh history for the new incarnation
    s.heartbeatsFor('a', 2, 61_000, 63_001, 1000, 2);
    expect(s.state('a')).toBe('ACTIVE');

    expect(s.edges('a')).toEqual([
      'JOINING>ACTIVE',
      'ACTIVE>SUSPECT',
      'SUSPECT>DEAD',
      'DEAD>JOINING',
      'JOINING>ACTIVE',
    ]);
  });

  it('with 1 s heartbeats, a stopped peer is SUSPECT 4–6 s after its last heartbeat and DEAD 20 s later', () => {
    for (const lastAt of [2000, 10_000, 120_000]) {
      const s = new Script();
      s.heartbeatsFor('p', 1, 0, lastAt + 1, 1000);
      s.advanceTo(lastAt + 40_000);
      const suspect = s.find('p', 'SUSPECT')!;
      const dead = s.find('p', 'DEAD')!;
      expect(suspect.atMs - lastAt).toBeGreaterThanOrEqual(4000);
      expect(suspect.atMs - lastAt).toBeLessThanOrEqual(6000);
      expect(suspect.sinceLastHeartbeatMs).toBe(suspect.atMs - lastAt);
      expect(dead.atMs - suspect.atMs).toBe(20_000);
      expect(s.edges('p')).toEqual(['JOINING>ACTIVE', 'ACTIVE>SUSPECT', 'SUSPECT>DEAD']);
    }
  });

  it('returns a SUSPECT peer that heartbeats again to ACTIVE', () => {
    const s = new Script();
    s.heartbeatsFor('p', 1, 0, 10_001); // last at 10 s, seq 1..11
    s.advanceTo(16_000);
    expect(s.state('p')).toBe('SUSPECT');
    expect(s.view.get('p')?.suspectSinceMs).toBe(s.find('p', 'SUSPECT')!.atMs);
    const back = s.heartbeat('p', 1, 12);
    expect(back.accepted).toBe(true);
    expect(back.transition).toMatchObject({ from: 'SUSPECT', to: 'ACTIVE', atMs: 16_000, sinceLastHeartbeatMs: 6000 });
    expect(back.transition!.phi).toBeGreaterThanOrEqual(8);
    expect(s.view.get('p')?.suspectSinceMs).toBeUndefined();
    // The 6 s gap did not enter the statistics: normal heartbeats keep it ACTIVE, and a
    // second stop is detected as fast as the first.
    s.heartbeatsFor('p', 1, 17_000, 30_001, 1000, 13);
    s.advanceTo(40_000);
    expect(s.find('p', 'DEAD')).toBeUndefined();
    const second = s.transitions.filter((t) => t.to === 'SUSPECT')[1]!;
    expect(second.atMs - 30_000).toBeLessThanOrEqual(6000);
  });

  it('returns a peer that was suspected while still JOINING to JOINING, not ACTIVE', () => {
    const s = new Script();
    s.heartbeat('p', 1, 1);
    s.advanceTo(8000);
    expect(s.state('p')).toBe('SUSPECT');
    expect(s.heartbeat('p', 1, 2).transition).toMatchObject({ from: 'SUSPECT', to: 'JOINING' });
    s.heartbeatsFor('p', 1, 9000, 10_001, 1000, 3);
    expect(s.state('p')).toBe('ACTIVE');
    expect(s.edges('p')).toEqual(['JOINING>SUSPECT', 'SUSPECT>JOINING', 'JOINING>ACTIVE']);
  });

  it('counts only regular heartbeats towards ACTIVE', () => {
    // No ticks: the third heartbeat comes after a gap that took φ over the threshold.
    const v = new MembershipView({}, SELF);
    v.onHeartbeat('q', { incarnation: 1, sequence: 1 }, 0);
    v.onHeartbeat('q', { incarnation: 1, sequence: 2 }, 1000);
    expect(v.onHeartbeat('q', { incarnation: 1, sequence: 3 }, 9000)).toEqual({ accepted: true }); // count restarts
    expect(v.get('q')?.state).toBe('JOINING');
    v.onHeartbeat('q', { incarnation: 1, sequence: 4 }, 10_000);
    expect(v.onHeartbeat('q', { incarnation: 1, sequence: 5 }, 11_000).transition).toMatchObject({
      from: 'JOINING',
      to: 'ACTIVE',
    });
  });

  it('goes straight to ACTIVE when activeAfterHeartbeats is 1', () => {
    const v = new MembershipView({ activeAfterHeartbeats: 1 }, SELF);
    expect(v.onHeartbeat('p', { incarnation: 1, sequence: 1 }, 0)).toMatchObject({
      accepted: true,
      newPeer: true,
      transition: { from: 'JOINING', to: 'ACTIVE' },
    });
  });

  it('treats a higher incarnation from a live peer as a restart: JOINING with a fresh history', () => {
    const s = new Script();
    s.heartbeatsFor('p', 1, 0, 5001);
    expect(s.state('p')).toBe('ACTIVE');
    s.advanceTo(5500);
    const restart = s.heartbeat('p', 2, 1);
    expect(restart.transition).toMatchObject({ from: 'ACTIVE', to: 'JOINING' });
    expect(s.view.get('p')).toMatchObject({ incarnation: 2, sequence: 1, state: 'JOINING' });
    s.heartbeatsFor('p', 2, 6500, 8501, 1000, 2);
    expect(s.state('p')).toBe('ACTIVE');
  });
});

describe('MembershipView rejects', () => {
  it('ignores replayed and stale heartbeats and says why, changing nothing', () => {
    const s = new Script();
    s.heartbeatsFor('p', 3, 0, 5001, 1000, 10); // (3, 10..15)
    const before = s.view.get('p');
    s.advanceTo(5500);
    expect(s.heartbeat('p', 3, 15)).toEqual({ accepted: false, reason: 'replayed' });
    expect(s.heartbeat('p', 3, 14)).toEqual({ accepted: false, reason: 'stale' });
    expect(s.heartbeat('p', 2, 999)).toEqual({ accepted: false, reason: 'stale' });
    expect(s.heartbeat('p', 0, 0)).toEqual({ accepted: false, reason: 'stale' });
    expect(s.view.get('p', 5000)).toEqual(before);
    // Replays do not keep a dead peer alive.
    let replayed = 0;
    for (let t = 6000; t <= 40_000; t += 500) {
      s.advanceTo(t);
      if (!s.heartbeat('p', 3, 15).accepted) replayed++;
    }
    expect(replayed).toBe(69);
    expect(s.state('p')).toBe('DEAD');
  });

  it('lets a DEAD peer back only with a higher incarnation', () => {
    const s = new Script();
    s.heartbeatsFor('p', 5, 0, 3001);
    s.advanceTo(40_000);
    expect(s.state('p')).toBe('DEAD');
    expect(s.heartbeat('p', 5, 100)).toEqual({ accepted: false, reason: 'stale-incarnation' });
    expect(s.heartbeat('p', 4, 100)).toEqual({ accepted: false, reason: 'stale' });
    expect(s.state('p')).toBe('DEAD');
    expect(s.view.get('p')).toMatchObject({ incarnation: 5, sequence: 4 });
    s.advanceTo(41_000);
    expect(s.heartbeat('p', 6, 1).transition).toMatchObject({ from: 'DEAD', to: 'JOINING' });
    expect(s.view.get('p')?.phi).toBeLessThan(1);
  });

  it('ignores heartbeats that claim to be from this node, and malformed stamps', () => {
    const v = new MembershipView({}, SELF);
    expect(v.onHeartbeat(SELF, { incarnation: 1, sequence: 1 }, 0)).toEqual({ accepted: false, reason: 'self' });
    for (const [incarnation, sequence] of [
      [Number.NaN, 1],
      [1, -1],
      [1.5, 1],
      [1, 2 ** 53],
    ] as const) {
      expect(v.onHeartbeat('p', { incarnation, sequence }, 0)).toEqual({ accepted: false, reason: 'invalid' });
    }
    expect(v.size).toBe(0);
    expect(() => v.onHeartbeat('p', { incarnation: 1, sequence: 1 }, Number.NaN)).toThrow(TypeError);
    expect(() => v.tick(0, { localPauseMs: -5 })).toThrow(RangeError);
  });
});

describe('MembershipView gaps and pauses', () => {
  it('never suspects a peer over a 2 s heartbeat gap (less than the 3 s acceptable pause)', () => {
    const s = new Script();
    let seq = s.heartbeatsFor('p', 1, 0, 30_001); // ACTIVE, 1 s heartbeats
    seq = s.heartbeatsFor('p', 1, 32_000, 60_001, 1000, seq); // one 2 s gap
    s.heartbeatsFor('p', 1, 62_000, 180_001, 2000, seq); // then a minute of 2 s gaps
    s.advanceTo(182_000);
    expect(s.edges('p')).toEqual(['JOINING>ACTIVE']);
    expect(s.view.get('p')?.phi).toBeLessThan(1);
  });

  it('convicts nobody for a 10 s local pause, and still detects a peer that died meanwhile', () => {
    const peers = ['a', 'b', 'c', 'd'];
    const seq = new Map(peers.map((p) => [p, 1]));
    const s = new Script();
    const beat = (p: string) => {
      const n = seq.get(p)!;
      s.heartbeat(p, 1, n);
      seq.set(p, n + 1);
    };
    for (let t = 0; t <= 30_000; t += 1000) {
      s.advanceTo(t);
      for (const p of peers) beat(p);
    }
    expect(s.view.counts().ACTIVE).toBe(4);
    // 'd' dies at 30 s. This process stalls from 30.5 s to 40.5 s: no ticks, no heartbeats
    // processed. When it wakes, the late tick reports the pause before the queued
    // heartbeats of a and b are handled; c's arrive only after the tick.
    const pauseEnd = 40_500;
    expect(s.view.tick(pauseEnd, { localPauseMs: 10_000 })).toEqual([]);
    s.now = pauseEnd;
    beat('a');
    beat('b');
    s.advanceTo(pauseEnd + 50);
    beat('c');
    for (let t = 41_000; t <= 80_000; t += 1000) {
      s.advanceTo(t);
      for (const p of ['a', 'b', 'c']) beat(p);
    }
    s.advanceTo(80_000);
    for (const p of ['a', 'b', 'c']) expect(s.edges(p)).toEqual(['JOINING>ACTIVE']);
    // d's silence during our pause did not count; after it, d is detected as usual.
    const suspect = s.find('d', 'SUSPECT')!;
    expect(suspect.atMs - 30_000 - 10_000).toBeGreaterThanOrEqual(4000);
    expect(suspect.atMs - 30_000 - 10_000).toBeLessThanOrEqual(6000);
    expect(suspect.sinceLastHeartbeatMs).toBe(suspect.atMs - 30_000); // real time, for the logs
    expect(s.find('d', 'DEAD')!.atMs).toBe(suspect.atMs + 20_000);
  });

  it('would convict everyone for the same stall if it were not reported (the rule is not vacuous)', () => {
    const s = new Script();
    for (let t = 0; t <= 30_000; t += 1000) {
      s.advanceTo(t);
      for (const p of ['a', 'b']) s.heartbeat(p, 1, t / 1000 + 1);
    }
    expect(s.view.tick(40_500).map((t) => `${t.peerId}:${t.from}>${t.to}`)).toEqual([
      'a:ACTIVE>SUSPECT',
      'b:ACTIVE>SUSPECT',
    ]);
  });

  it('does not let a local pause advance a SUSPECT peer towards DEAD', () => {
    const s = new Script();
    s.heartbeatsFor('p', 1, 0, 10_001);
    s.advanceTo(16_000);
    const since = s.view.get('p')!.suspectSinceMs!;
    // Paused for 15 s: without compensation the peer would be DEAD 20 s after `since`.
    expect(s.view.tick(31_000, { localPauseMs: 15_000 })).toEqual([]);
    const v = s.view;
    expect(v.tick(since + 20_000)).toEqual([]);
    const dead = v.tick(since + 35_000);
    expect(dead).toMatchObject([{ peerId: 'p', from: 'SUSPECT', to: 'DEAD' }]);
    expect(v.get('p')?.suspectSinceMs).toBeUndefined();
  });

  it('does not compensate pauses up to the acceptable pause: those still convict a dead peer', () => {
    const s = new Script();
    s.heartbeatsFor('p', 1, 0, 10_001);
    expect(s.view.tick(16_000, { localPauseMs: 3000 })).toMatchObject([{ from: 'ACTIVE', to: 'SUSPECT' }]);
  });
});

describe('MembershipView queries', () => {
  it('reports status, φ at a chosen time, counts, and forgets removed peers', () => {
    const v = new MembershipView({}, SELF);
    expect(v.get('x')).toBeUndefined();
    expect(v.all()).toEqual([]);
    for (let t = 0; t <= 3000; t += 1000) {
      v.onHeartbeat('b', { incarnation: 1, sequence: t / 1000 + 1 }, t);
      v.onHeartbeat('a', { incarnation: 7, sequence: t / 1000 + 1 }, t);
    }
    expect(v.all().map((p) => p.peerId)).toEqual(['b', 'a']);
    expect(v.get('a')).toEqual({
      peerId: 'a',
      state: 'ACTIVE',
      phi: v.get('a', 3000)!.phi,
      lastHeartbeatMs: 3000,
      incarnation: 7,
      sequence: 4,
    });
    expect(v.get('a', 9000)!.phi).toBeGreaterThan(v.get('a', 6000)!.phi);
    expect(v.counts()).toEqual({ JOINING: 0, ACTIVE: 2, SUSPECT: 0, DEAD: 0 });
    expect(v.remove('a')).toBe(true);
    expect(v.remove('a')).toBe(false);
    expect(v.counts()).toEqual({ JOINING: 0, ACTIVE: 1, SUSPECT: 0, DEAD: 0 });
    expect(v.onHeartbeat('a', { incarnation: 1, sequence: 1 }, 4000).newPeer).toBe(true);
  });
});

describe('MembershipView properties', () => {
  const allowed = new Set([
    'JOINING>ACTIVE',
    'JOINING>SUSPECT',
    'ACTIVE>SUSPECT',
    'SUSPECT>ACTIVE',
    'SUSPECT>JOINING',
    'SUSPECT>DEAD',
    'ACTIVE>JOINING',
    'DEAD>JOINING',
  ]);

  it('only makes allowed transitions, accepts only increasing stamps, and never suspects a peer whose gaps stay under 2 s', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('hb' as const),
        peer: fc.constantFrom('x', 'y'),
        bumpInc: fc.boolean(),
        seqDelta: fc.integer({ min: -2, max: 3 }),
      }),
      fc.record({ kind: fc.constant('tick' as const), pause: fc.constantFrom(0, 0, 0, 500, 10_000) }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 8000 }), op), { maxLength: 120 }), (script) => {
        const v = new MembershipView({}, SELF);
        const last = new Map<string, [number, number]>();
        let now = 0;
        let seqSteady = 1;
        for (const [dt, o] of script) {
          // 'steady' heartbeats at most 2 s apart, whatever else happens.
          for (let t = now + 1; t <= now + dt; t++) {
            if (t % 1900 === 0) {
              if (v.onHeartbeat('steady', { incarnation: 1, sequence: seqSteady++ }, t).transition?.to === 'SUSPECT')
                return false;
              for (const tr of v.tick(t)) if (tr.peerId === 'steady' && tr.to === 'SUSPECT') return false;
            }
          }
          now += dt;
          if (o.kind === 'tick') {
            for (const tr of v.tick(now, { localPauseMs: o.pause })) {
              if (!allowed.has(`${tr.from}>${tr.to}`) || tr.peerId === 'steady') return false;
            }
          } else {
            const [inc, seq] = last.get(o.peer) ?? [1, 0];
            const stamp = { incarnation: o.bumpInc ? inc + 1 : inc, sequence: o.bumpInc ? 1 : seq + o.seqDelta };
            if (stamp.sequence < 0) continue;
            const r = v.onHeartbeat(o.peer, stamp, now);
            const prev = last.get(o.peer);
            const increasing =
              prev === undefined ||
              stamp.incarnation > prev[0] ||
              (stamp.incarnation === prev[0] && stamp.sequence > prev[1]);
            if (r.accepted && !increasing) return false;
            if (!r.accepted && increasing && r.reason !== 'stale-incarnation') return false;
            if (r.transition && !allowed.has(`${r.transition.from}>${r.transition.to}`)) return false;
            if (r.accepted) last.set(o.peer, [stamp.incarnation, stamp.sequence]);
          }
        }
        const counts = v.counts();
        return Object.values(counts).reduce((a, b) => a + b, 0) === v.size;
      }),
      { numRuns: 200 },
    );
  });

  it('after every tick no live peer has φ at the threshold and no SUSPECT peer is past dead-after, though most ticks skip the pass', () => {
    // The view skips its O(peers) pass while no peer can be due; whatever the mix of
    // heartbeats (regular, bursty, late, restarts) and ticks, the result after a tick
    // must be what a full pass gives.
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('hb' as const),
        peer: fc.constantFrom('a', 'b', 'c', 'd'),
        restart: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
      }),
      fc.record({ kind: fc.constant('tick' as const), pause: fc.constantFrom(0, 0, 0, 0, 200, 5_000) }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 6000 }), op), { maxLength: 150 }),
        fc.integer({ min: 1, max: 4 }),
        (script, activeAfterHeartbeats) => {
          const v = new MembershipView({ deadAfterMs: 7_000, activeAfterHeartbeats }, SELF);
          const stamps = new Map<string, [number, number]>();
          let now = 0;
          for (const [dt, o] of script) {
            now += dt;
            if (o.kind === 'hb') {
              const [inc, seq] = stamps.get(o.peer) ?? [1, 0];
              const next: [number, number] = o.restart ? [inc + 1, 1] : [inc, seq + 1];
              stamps.set(o.peer, next);
              v.onHeartbeat(o.peer, { incarnation: next[0], sequence: next[1] }, now);
              continue;
            }
            v.tick(now, { localPauseMs: o.pause });
            if (o.pause > v.options.phi.acceptableHeartbeatPauseMs) continue;
            for (const p of v.all(now)) {
              const live = p.state === 'JOINING' || p.state === 'ACTIVE';
              if (live && p.phi >= v.options.phi.threshold) return false;
            }
          }
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });

  /** The first time φ of `peer` reaches the threshold if no heartbeat comes (bisection). */
  const crossingOf = (v: MembershipView, peer: string, from: number) => {
    let lo = from;
    let hi = from + 60_000;
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      if ((v.get(peer, mid)?.phi ?? 0) >= v.options.phi.threshold) hi = mid;
      else lo = mid;
    }
    return hi;
  };

  it('a heartbeat that moves a crossing earlier is not missed by ticks that skip the pass', () => {
    // Irregular intervals give a wide σ; one interval near the mean narrows σ so much that
    // the crossing moves earlier although the heartbeat moved the last-seen time later.
    const irregular = [0, 100, 3000, 3100, 6000, 6100];
    const setUp = () => {
      const v = new MembershipView({}, SELF);
      for (const [i, t] of irregular.entries()) v.onHeartbeat('x', { incarnation: 1, sequence: i + 1 }, t);
      expect(v.tick(6200)).toEqual([]);
      return v;
    };
    const before = crossingOf(setUp(), 'x', 6100);
    const earlier = [...Array(60).keys()]
      .map((i) => 6100 + 50 * (i + 1))
      .find((t) => {
        const v = setUp();
        v.onHeartbeat('x', { incarnation: 1, sequence: 99 }, t);
        return crossingOf(v, 'x', t) < before - 100;
      });
    expect(earlier).toBeDefined();
    const v = setUp();
    v.onHeartbeat('x', { incarnation: 1, sequence: 99 }, earlier!);
    const after = crossingOf(v, 'x', earlier!);
    expect(v.tick(after + 1).map((t) => t.to)).toEqual(['SUSPECT']);
    expect(after + 1).toBeLessThan(before);
  });

  it('a tick at the exact moment a peer crosses the threshold convicts it, after ticks that skipped the pass', () => {
    const v = new MembershipView({}, SELF);
    for (let i = 0; i < 10; i++) v.onHeartbeat('x', { incarnation: 1, sequence: i + 1 }, i * 1000);
    const crossing = crossingOf(v, 'x', 9000);
    for (let t = 9100; t < crossing; t += 100) expect(v.tick(t)).toEqual([]);
    const transitions = v.tick(crossing);
    expect(transitions.map((t) => `${t.peerId}:${t.from}>${t.to}`)).toEqual(['x:ACTIVE>SUSPECT']);
    // Dead-after counts from the conviction; the skipped passes must not delay it either.
    expect(v.tick(crossing + v.options.deadAfterMs - 1)).toEqual([]);
    expect(v.tick(crossing + v.options.deadAfterMs).map((t) => t.to)).toEqual(['DEAD']);
  });
});
