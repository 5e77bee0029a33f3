/**
 * bench:pbft's own plumbing (not its figures, which are the host's): options that exclude
 * each other are refused before any work, and `--processes` runs a validator in a child
 * process that answers the benchmark and is gone when it ends.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HOST_DRIFT_LIMIT, hostDriftNote, rewarmSeconds, windowMedians } from '../bench-pbft.ts';
import { runScript, type ScriptRun } from './run-script.ts';

const bench = (args: string[]): Promise<ScriptRun> => runScript('bench-pbft.ts', args);

/** One validator, 1 s of 8 clients with no warm-up, 12 low-load requests, a JSON report: `extra` says the rest. */
const quickRun = (extra: string[]): Promise<ScriptRun> =>
  bench(['--n', '1', '--seconds', '1', '--warmup', '0', '--low', '12', '--clients', '8', ...extra, '--json']);

/** Processes running the replica script now (Linux /proc; processes that vanish meanwhile are skipped). */
function replicaProcesses(): number {
  let count = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('bench-pbft-replica.ts')) count++;
    } catch {
      // gone between the listing and the read
    }
  }
  return count;
}

describe('bench:pbft host drift', () => {
  it('warns when the raw verify rate moved by more than a tenth over one n, either way', () => {
    expect(HOST_DRIFT_LIMIT).toBe(0.1);
    expect(hostDriftNote('n=4', 13_000, 12_000)).toBeNull();
    expect(hostDriftNote('n=4', 12_000, 13_000)).toBeNull();
    expect(hostDriftNote('n=4', 13_000, 9_100)).toBe(
      "bench:pbft: n=4: the raw verify rate moved from 13000 to 9100/s (30 %) while it ran: the host's speed changed; compare this row by its ratio at the faster rate",
    );
    expect(hostDriftNote('n=7 window 2', 9_100, 13_000)).toContain(
      'n=7 window 2: the raw verify rate moved from 9100 to 13000/s (30 %)',
    );
  });
});

describe('bench:pbft windows', () => {
  const row = (ratio: number, throughput: number, limit: number, ratioAtFaster: number) => ({
    n: 4,
    ratio,
    throughput,
    limit,
    ratioAtFaster,
  });

  it('takes the median of each figure over the windows, and the range of their ratios', () => {
    expect(
      windowMedians([row(0.58, 3900, 6700, 0.57), row(0.52, 3500, 6800, 0.5), row(0.55, 3700, 6600, 0.56)]),
    ).toEqual({
      n: 4,
      windows: 3,
      limit: 6700,
      throughput: 3700,
      ratio: 0.55,
      ratioRange: [0.52, 0.58],
      ratioAtFaster: 0.56,
    });
    // An even count takes the lower of the two middle values: never the flattering one.
    const even = windowMedians([row(0.6, 4000, 6700, 0.6), row(0.5, 3400, 6800, 0.49)]);
    expect(even.ratio).toBe(0.5);
    expect(even.throughput).toBe(3400);
    expect(even.ratioRange).toEqual([0.5, 0.6]);
    expect(() => windowMedians([])).toThrow('no windows');
  });

  it('ramps a later window up for at most 2 s, and never longer than the first', () => {
    expect(rewarmSeconds(10)).toBe(2);
    expect(rewarmSeconds(1)).toBe(1);
    expect(rewarmSeconds(0)).toBe(0);
  });
});

describe('bench:pbft', () => {
  it('refuses --processes with --one-loop, and either with --heap-snapshot, before measuring anything', async () => {
    const both = await bench(['--n', '1', '--processes', '--one-loop']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--processes and --one-loop exclude each other');
    expect(both.stderr).not.toContain('Ed25519 verify');
    const snapshot = await bench(['--n', '1', '--processes', '--heap-snapshot', 'x.heapsnapshot']);
    expect(snapshot.code).toBe(2);
    expect(snapshot.stderr).toContain('--heap-snapshot takes a worker thread');
    expect(snapshot.stderr).toContain('leave out --processes');
    const inLoop = await bench(['--n', '1', '--one-loop', '--heap-snapshot', 'x.heapsnapshot']);
    expect(inLoop.code).toBe(2);
    expect(inLoop.stderr).toContain('--heap-snapshot takes a worker thread: leave out --one-loop');
    expect(inLoop.stderr).not.toContain('Ed25519 verify');
    const none = await bench(['--n', '1', '--windows', '0']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Expected an integer from 1');
    // The first 10 low-load requests are warm-up: 10 would leave no latency to report.
    const low = await bench(['--n', '1', '--low', '10']);
    expect(low.code).toBe(2);
    expect(low.stderr).toContain('Expected an integer from 11');
    expect(low.stderr).not.toContain('Ed25519 verify');
  });

  it('runs a validator in its own process with --processes and reports its commits and CPU', async () => {
    const r = await quickRun(['--processes']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      rows: {
        n: number;
        lowP50: number | null;
        committed: number;
        cpuCores: number;
        threadCores: number[];
        verifiesPerRequest: number;
        redundantPerRequest: number;
        pipelineWindow: number | null;
        ratio: number;
        ratioAtFaster: number;
        verifyRates: [number, number];
      }[];
    };
    expect(report.rows).toHaveLength(1);
    const row = report.rows[0]!;
    expect(row.n).toBe(1);
    // Two low-load requests past the warm-up were timed (NaN, had none been, is null in JSON).
    expect(row.lowP50).toBeGreaterThan(0);
    expect(row.committed).toBeGreaterThan(0);
    // The child's process CPU, summed by the parent: a process that did the work used some.
    expect(row.cpuCores).toBeGreaterThan(0);
    expect(row.threadCores).toHaveLength(1);
    expect(row.verifiesPerRequest).toBeGreaterThanOrEqual(1);
    // A lone validator has no peers to re-send it anything.
    expect(row.redundantPerRequest).toBe(0);
    // The lone validator is the primary; its bound is between 1 and the default 8.
    expect(row.pipelineWindow).toBeGreaterThanOrEqual(1);
    expect(row.pipelineWindow).toBeLessThanOrEqual(8);
    // The limit at the faster of the two verify rates is at least the mean's: never a flattering ratio.
    expect(row.verifyRates.every((v) => v > 0)).toBe(true);
    expect(row.ratioAtFaster).toBeGreaterThan(0);
    expect(row.ratioAtFaster).toBeLessThanOrEqual(row.ratio);
    expect(replicaProcesses()).toBe(0);
  });

  it('measures --windows in turn, the clients going on where they stopped, each between its own raw readings', async () => {
    const r = await quickRun(['--windows', '2']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      rows: { n: number; window: number; committed: number; ratio: number; verifyRates: [number, number] }[];
      medians: { n: number; windows: number; ratio: number; ratioRange: [number, number] }[];
    };
    expect(report.rows.map((w) => [w.n, w.window])).toEqual([
      [1, 1],
      [1, 2],
    ]);
    // The second window commits too: had its clients sent their pools from the start again,
    // the replica would have dropped those timestamps as executed and the window stalled.
    for (const w of report.rows) expect(w.committed).toBeGreaterThan(0);
    // One reading between the windows: the first window's after is the second's before.
    expect(report.rows[0]!.verifyRates[1]).toBe(report.rows[1]!.verifyRates[0]);
    expect(report.medians).toHaveLength(1);
    const m = report.medians[0]!;
    expect(m.windows).toBe(2);
    expect(m.ratio).toBe(Math.min(report.rows[0]!.ratio, report.rows[1]!.ratio));
    expect(m.ratioRange).toEqual([m.ratio, Math.max(report.rows[0]!.ratio, report.rows[1]!.ratio)]);
  });

  it('measures --windows with --one-loop too, each validator checking every request in its own verify worker', async () => {
    const r = await quickRun(['--one-loop', '--windows', '2', '--verify-workers', '1']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      rows: { window: number; committed: number; threadCores: number[]; verifiesPerRequest: number }[];
      medians: { windows: number }[];
    };
    expect(report.rows.map((w) => w.window)).toEqual([1, 2]);
    for (const w of report.rows) {
      expect(w.committed).toBeGreaterThan(0);
      // One loop: every validator's thread is the same one, so no split is reported.
      expect(w.threadCores).toEqual([]);
      // The checks its verify worker ran count as its own.
      expect(w.verifiesPerRequest).toBeGreaterThanOrEqual(1);
    }
    expect(report.medians[0]!.windows).toBe(2);
    // Nothing ran in another process.
    expect(replicaProcesses()).toBe(0);
  });
});
