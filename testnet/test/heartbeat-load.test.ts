import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../scripts/bench-membership-node.ts';
import { UsageError } from '../args.ts';
import { mulberry32 } from '../cluster.ts';
import { chooseVictims, FLOOD_FANOUT, planWave, sentBefore, waveTopology } from '../heartbeat-wave.ts';
import { killFigures, killPhaseMs } from '../kill-figures.ts';

const MODEL = { dup: 1.5, hopMs: 35, flushMs: 30 };

describe('bench:membership-node flags', () => {
  it('has defaults', () => {
    expect(parseArgs([])).toEqual({
      peers: [200, 500],
      seconds: 30,
      links: 4,
      dup: 1.5,
      warmup: 120,
      idle: 5,
      seed: 1,
      kill: 20,
      json: false,
    });
  });

  it('reads a list of sizes and every flag', () => {
    expect(
      parseArgs([
        '--peers',
        '200, 500,1000',
        '--seconds',
        '5',
        '--links',
        '6',
        '--dup',
        '2.5',
        '--seed',
        '9',
        '--idle',
        '2',
        '--warmup',
        '60',
        '--kill',
        '0',
        '--json',
      ]),
    ).toMatchObject({
      peers: [200, 500, 1000],
      seconds: 5,
      links: 6,
      dup: 2.5,
      seed: 9,
      idle: 2,
      warmup: 60,
      kill: 0,
      json: true,
    });
    // At most N - 1 minus the link peers: 200 - 1 - 4.
    expect(parseArgs(['--peers', '200', '--kill', '195'])).toMatchObject({ kill: 195 });
  });

  const bad: Array<[string[], RegExp]> = [
    [['--peers', '200,,500'], /--peers.*comma-separated integers from 2 to 10000/],
    [['--peers', '1'], /--peers.*from 2 to 10000/],
    [['--peers', '200,abc'], /--peers/],
    [['--links', '7'], /--links.*integer from 1 to 6/],
    [['--dup', '-1'], /--dup/],
    [['--links', '2', '--dup', '1.5'], /--dup 1.5 needs at least 3 links/],
    [['--peers', '4', '--links', '4', '--dup', '1'], /--peers 4 is too few for --links 4/],
    [['--kill', '-1'], /--kill.*integer from 0/],
    [['--peers', '1000,200', '--kill', '196'], /--kill 196 is too many for --peers 200 with --links 4: at most 195/],
    [['--peers', '50', '--links', '6', '--dup', '1', '--kill', '44'], /at most 43 peers are not link peers/],
  ];
  for (const [argv, message] of bad) {
    it(`refuses ${argv.join(' ')}`, () => {
      expect(() => parseArgs(argv)).toThrow(UsageError);
      expect(() => parseArgs(argv)).toThrow(message);
    });
  }
});

describe('heartbeat wave model', () => {
  it('puts the link peers at depth 1 on their own links and the rest in flood layers', () => {
    const topo = waveTopology(199, 4, 30, mulberry32(1));
    expect(topo.depth.slice(0, 4)).toEqual([1, 1, 1, 1]);
    expect(topo.firstLink.slice(0, 4)).toEqual([0, 1, 2, 3]);
    const perDepth = new Map<number, number>();
    for (const d of topo.depth) perDepth.set(d, (perDepth.get(d) ?? 0) + 1);
    // 4, 12, 36, 108 and the 39 left over.
    expect([...perDepth.entries()]).toEqual([
      [1, 4],
      [2, 4 * FLOOD_FANOUT],
      [3, 4 * FLOOD_FANOUT ** 2],
      [4, 4 * FLOOD_FANOUT ** 3],
      [5, 39],
    ]);
    expect(topo.firstLink.every((l) => l >= 0 && l < 4)).toBe(true);
    expect(topo.flushPhase.every((p) => p >= 0 && p < 30)).toBe(true);
  });

  it('sends every origin once on its first link, never twice on a link, with about dup extra copies', () => {
    const rand = mulberry32(7);
    const topo = waveTopology(3_999, 4, 30, rand);
    const frames = planWave(topo, MODEL, rand);
    const copies = new Map<number, number[]>();
    for (const f of frames) for (const o of f.origins) copies.set(o, [...(copies.get(o) ?? []), f.link]);
    expect(copies.size).toBe(3_999);
    for (const [o, links] of copies) {
      expect(links).toContain(topo.firstLink[o]);
      expect(new Set(links).size).toBe(links.length);
      expect(links.length === 2 || links.length === 3).toBe(true);
    }
    const extra = [...copies.values()].reduce((n, l) => n + l.length - 1, 0) / 3_999;
    expect(extra).toBeGreaterThan(1.44);
    expect(extra).toBeLessThan(1.56);
  });

  it('sends the link peers at once and the rest at their link flushes, in time order, within ~300 ms', () => {
    const rand = mulberry32(3);
    const topo = waveTopology(999, 4, 30, rand);
    const frames = planWave(topo, MODEL, rand);
    for (let i = 1; i < frames.length; i++) expect(frames[i]!.atMs).toBeGreaterThanOrEqual(frames[i - 1]!.atMs);
    const first = frames.filter((f) => f.atMs === 0);
    expect(first.flatMap((f) => f.origins).sort()).toEqual(expect.arrayContaining([0, 1, 2, 3]));
    for (const f of frames) {
      if (f.atMs === 0) continue;
      const sinceFlush = (f.atMs - topo.flushPhase[f.link]!) / 30;
      expect(Math.abs(sinceFlush - Math.round(sinceFlush))).toBeLessThan(0.01);
    }
    const last = frames[frames.length - 1]!.atMs;
    expect(last).toBeGreaterThan(100);
    expect(last).toBeLessThan(300);
    // Batched: a few frames per link per wave, not a frame per heartbeat.
    expect(frames.length).toBeLessThanOrEqual(4 * Math.ceil(last / 30 + 2));
  });

  it('with dup 0 sends one copy each; with dup links-1 one on every link; more is refused', () => {
    const rand = mulberry32(5);
    const topo = waveTopology(50, 4, 30, rand);
    const count = (dup: number) => planWave(topo, { ...MODEL, dup }, rand).reduce((n, f) => n + f.origins.length, 0);
    expect(count(0)).toBe(50);
    expect(count(3)).toBe(200);
    expect(() => planWave(topo, { ...MODEL, dup: 3.5 }, rand)).toThrow(RangeError);
  });
});

describe('kill phase', () => {
  it('stops distinct origins that are not link peers, the same ones for the same seed', () => {
    const victims = chooseVictims(199, 4, 40, mulberry32(11));
    expect(victims).toHaveLength(40);
    expect(new Set(victims).size).toBe(40);
    expect(victims.every((o) => Number.isInteger(o) && o >= 4 && o < 199)).toBe(true);
    expect(chooseVictims(199, 4, 40, mulberry32(11))).toEqual(victims);
    expect(chooseVictims(199, 4, 40, mulberry32(12))).not.toEqual(victims);
    // Every origin that is not a link peer, once each.
    expect([...chooseVictims(10, 4, 6, mulberry32(1))].sort((a, b) => a - b)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(chooseVictims(10, 4, 0, mulberry32(1))).toEqual([]);
    expect(() => chooseVictims(10, 4, 7, mulberry32(1))).toThrow(RangeError);
  });

  it('spreads the kills over the interval at (k + 1/2) / K', () => {
    expect([0, 1, 2, 3].map((k) => killPhaseMs(k, 4, 1000))).toEqual([125, 375, 625, 875]);
    expect(killPhaseMs(0, 1, 1000)).toBe(500);
    expect(killPhaseMs(39, 40, 1000)).toBe(987.5);
  });

  it("delivers a stopped origin's heartbeat sent before its stop, however late, and none after", () => {
    const stoppedAt: number[] = [];
    stoppedAt[2] = 10_250; // stopped 250 ms into the wave of 10 000
    stoppedAt[3] = 9_999; // stopped just before it
    stoppedAt[4] = 10_000; // in the very millisecond of it: counts as before the send
    // The wave of 10 000: origin 2 sent at 10 000, before its stop, so it still arrives.
    expect(sentBefore([1, 2, 3, 4, 5], 10_000, stoppedAt)).toEqual([1, 2, 5]);
    // The next wave: origin 2 is gone too.
    expect(sentBefore([1, 2, 3, 4, 5], 11_000, stoppedAt)).toEqual([1, 5]);
    expect(sentBefore([1, 5], 11_000, [])).toEqual([1, 5]);
  });

  it('times each victim by its first SUSPECT after its kill and counts every other SUSPECT as false', () => {
    const victims = [
      { peerId: 'a', killedAt: 1_000, phaseMs: 100 },
      { peerId: 'b', killedAt: 1_500, phaseMs: 600 },
      { peerId: 'c', killedAt: 1_900, phaseMs: 0 },
    ];
    const figures = killFigures(
      victims,
      [
        { peerId: 'x', at: 500, sinceLastHeartbeatMs: 4_000 }, // before the phase: not counted
        { peerId: 'b', at: 1_200, sinceLastHeartbeatMs: 4_100 }, // before b's kill: false
        { peerId: 'a', at: 5_500, sinceLastHeartbeatMs: 4_400 },
        { peerId: 'b', at: 6_200, sinceLastHeartbeatMs: 4_600 },
        { peerId: 'a', at: 9_000, sinceLastHeartbeatMs: 8_000 }, // a's second: ignored
        { peerId: 'y', at: 7_000, sinceLastHeartbeatMs: 4_000 }, // never stopped: false
      ],
      900,
    );
    expect(figures).toEqual({
      killed: 3,
      suspected: 2,
      neverSuspected: ['c'],
      falseSuspicions: 2,
      falselySuspected: ['b', 'y'],
      killToSuspectMs: { p50: 4_500, p99: 4_700, max: 4_700 },
      lastHeartbeatToSuspectMs: { p50: 4_400, p99: 4_600, max: 4_600 },
      // a: heard at 5 500 - 4 400 = 1 100, its wave at 1 000 - 100 = 900; b: 1 600 and 900.
      lastHeartbeatAfterPhaseMs: { min: 200, max: 700 },
    });
    const none = killFigures(victims, [], 0);
    expect(none.killToSuspectMs).toBeNull();
    expect(none.lastHeartbeatAfterPhaseMs).toBeNull();
    expect(none.neverSuspected).toEqual(['a', 'b', 'c']);
  });
});
