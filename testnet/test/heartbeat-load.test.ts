import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../scripts/bench-membership-node.ts';
import { UsageError } from '../args.ts';
import { mulberry32 } from '../cluster.ts';
import { FLOOD_FANOUT, planWave, waveTopology } from '../heartbeat-wave.ts';

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
      json: true,
    });
  });

  const bad: Array<[string[], RegExp]> = [
    [['--peers', '200,,500'], /--peers.*comma-separated integers from 2 to 10000/],
    [['--peers', '1'], /--peers.*from 2 to 10000/],
    [['--peers', '200,abc'], /--peers/],
    [['--links', '7'], /--links.*integer from 1 to 6/],
    [['--dup', '-1'], /--dup/],
    [['--links', '2', '--dup', '1.5'], /--dup 1.5 needs at least 3 links/],
    [['--peers', '4', '--links', '4', '--dup', '1'], /--peers 4 is too few for --links 4/],
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
