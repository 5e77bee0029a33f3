/**
 * Where a saturated PBFT cluster's CPU goes, from `perf script` samples: the shares of
 * Ed25519 verification, V8's helper threads, the kernel, libc and libuv's pool during the
 * saturating phase. Used by `npm run bench:pbft-cpu` (scripts/bench-pbft-cpu.ts). Pure: it
 * reads lines and counts.
 *
 * Why a share and not throughput: the host's speed moves from run to run by more than a
 * change of a few per cent can show, and it moves every thread alike, so the share of all
 * CPU samples spent in Ed25519 (what bench:pbft's ratio would be if nothing else moved) is
 * steady where the ratio is not (44.0-46.8 % over seven runs of one build, against ratios
 * of 0.41-0.57).
 */

/** One line of `perf script -F comm,tid,time,ip,sym,dso`. */
export interface PerfSample {
  readonly comm: string;
  readonly tid: number;
  readonly timeS: number;
  readonly sym: string;
  readonly dso: string;
}

const LINE = /^\s*(\S(?:.*\S)?)\s+(\d+)\s+(\d+(?:\.\d+)?):\s+[0-9a-f]+\s+(.*?)\s+\(([^()]*)\)\s*$/;

/** A sample, or null for a line that is not one (perf's headers, blank lines). */
export function parsePerfLine(line: string): PerfSample | null {
  const m = LINE.exec(line);
  if (m === null) return null;
  return { comm: m[1]!, tid: Number(m[2]), timeS: Number(m[3]), sym: m[4]!, dso: m[5]! };
}

/** OpenSSL's Ed25519 verification (field and group arithmetic, SHA-512 of the message). */
const ED25519 = /^(fe_|ge_|slide$|ossl_ed25519|sc_|x25519_|sha512_block)/;

export type Category = 'ed25519' | 'v8Helpers' | 'libuvPool' | 'kernel' | 'libc' | 'other';

export function categorize(s: PerfSample): Category {
  if (ED25519.test(s.sym)) return 'ed25519';
  if (s.comm === 'V8Worker') return 'v8Helpers';
  if (s.comm === 'libuv-worker') return 'libuvPool';
  if (s.dso.includes('kernel')) return 'kernel';
  if (/\blibc\.so/.test(s.dso)) return 'libc';
  return 'other';
}

export interface SharesOptions {
  /** Replica threads (perf's comm `WorkerThread`) that must each have this share of a second's samples to count as busy. */
  busyFraction: number;
  /** Busy replica threads a second of saturation needs. */
  minBusyThreads: number;
  /** A second of saturation has at least this fraction of the busiest second's samples. */
  peakFraction: number;
}

export const defaultSharesOptions: SharesOptions = { busyFraction: 0.1, minBusyThreads: 3, peakFraction: 0.85 };

export interface Shares {
  /** The saturation window: the longest run of whole seconds (perf's clock) that qualify. */
  readonly fromS: number;
  readonly toS: number;
  readonly samples: number;
  /** Fractions of the window's samples. */
  readonly share: Readonly<Record<Category, number>>;
}

/** Counts samples by second and category, then finds the saturation window. */
export class SharesCounter {
  readonly #perSecond = new Map<number, { total: number; byTid: Map<number, number>; byCat: Map<Category, number> }>();

  add(s: PerfSample): void {
    const sec = Math.floor(s.timeS);
    let row = this.#perSecond.get(sec);
    if (row === undefined) {
      row = { total: 0, byTid: new Map(), byCat: new Map() };
      this.#perSecond.set(sec, row);
    }
    row.total++;
    if (s.comm === 'WorkerThread') row.byTid.set(s.tid, (row.byTid.get(s.tid) ?? 0) + 1);
    const c = categorize(s);
    row.byCat.set(c, (row.byCat.get(c) ?? 0) + 1);
  }

  /** Null when no second qualifies (no saturating phase, or too few replica threads). */
  shares(opts: SharesOptions = defaultSharesOptions): Shares | null {
    const peak = Math.max(0, ...[...this.#perSecond.values()].map((r) => r.total));
    const qualifies = (sec: number): boolean => {
      const row = this.#perSecond.get(sec);
      if (row === undefined || row.total < opts.peakFraction * peak) return false;
      let busy = 0;
      for (const n of row.byTid.values()) if (n >= opts.busyFraction * row.total) busy++;
      return busy >= opts.minBusyThreads;
    };
    const secs = [...this.#perSecond.keys()].sort((a, b) => a - b);
    if (secs.length === 0) return null;
    let best: [number, number] | null = null;
    let runStart: number | null = null;
    for (let sec = secs[0]!; sec <= secs[secs.length - 1]!; sec++) {
      if (!qualifies(sec)) {
        runStart = null;
        continue;
      }
      runStart ??= sec;
      if (best === null || sec - runStart > best[1] - best[0]) best = [runStart, sec];
    }
    if (best === null) return null;
    const counts: Record<Category, number> = { ed25519: 0, v8Helpers: 0, libuvPool: 0, kernel: 0, libc: 0, other: 0 };
    let samples = 0;
    for (let sec = best[0]; sec <= best[1]; sec++) {
      const row = this.#perSecond.get(sec)!;
      samples += row.total;
      for (const [c, n] of row.byCat) counts[c] += n;
    }
    const share = Object.fromEntries(Object.entries(counts).map(([c, n]) => [c, n / samples])) as Record<
      Category,
      number
    >;
    return { fromS: best[0], toS: best[1], samples, share };
  }
}
