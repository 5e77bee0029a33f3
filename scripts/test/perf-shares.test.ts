import { describe, expect, it } from 'vitest';
import { categorize, type PerfSample, parsePerfLine, SharesCounter } from '../perf-shares.ts';

const sample = (comm: string, tid: number, timeS: number, sym: string, dso = '/usr/bin/node'): PerfSample => ({
  comm,
  tid,
  timeS,
  sym,
  dso,
});

describe('perf shares', () => {
  it('reads perf script lines, and nothing else', () => {
    expect(
      parsePerfLine('    WorkerThread  6021  1942.123456:      55d1c0a3f2b0 fe_mul (/work/node_modules/node/bin/node)'),
    ).toEqual({
      comm: 'WorkerThread',
      tid: 6021,
      timeS: 1942.123456,
      sym: 'fe_mul',
      dso: '/work/node_modules/node/bin/node',
    });
    expect(
      parsePerfLine('        V8Worker  6030  1942.2:  ffffffff8a1b2c3d clear_page_erms ([kernel.kallsyms])'),
    ).toMatchObject({ comm: 'V8Worker', sym: 'clear_page_erms', dso: '[kernel.kallsyms]' });
    expect(parsePerfLine('  libuv-worker  7000  10.5:  7f00 [unknown] ([unknown])')).toMatchObject({
      sym: '[unknown]',
    });
    expect(parsePerfLine('')).toBeNull();
    expect(parsePerfLine('# perf script header')).toBeNull();
  });

  it('puts each sample in one category', () => {
    expect(categorize(sample('WorkerThread', 1, 0, 'ge_p2_dbl'))).toBe('ed25519');
    expect(categorize(sample('WorkerThread', 1, 0, 'sha512_block_data_order_avx2'))).toBe('ed25519');
    expect(categorize(sample('V8Worker', 2, 0, 'v8::internal::ConcurrentMarking::RunMajor'))).toBe('v8Helpers');
    expect(categorize(sample('libuv-worker', 3, 0, 'fdatasync'))).toBe('libuvPool');
    expect(categorize(sample('WorkerThread', 1, 0, 'clear_page_erms', '[kernel.kallsyms]'))).toBe('kernel');
    expect(categorize(sample('WorkerThread', 1, 0, '_int_malloc', '/usr/lib/x86_64-linux-gnu/libc.so.6'))).toBe('libc');
    expect(categorize(sample('WorkerThread', 1, 0, 'Builtins_MapPrototypeSet'))).toBe('other');
  });

  it('finds the saturating phase: the longest run of near-peak seconds with enough busy replica threads', () => {
    const c = new SharesCounter();
    // 100-101: one thread signing at full speed (busy, but one thread: not saturation).
    for (const sec of [100, 101])
      for (let i = 0; i < 1000; i++) c.add(sample('WorkerThread', 1, sec + i / 1000, 'cmov'));
    // 102-106: four replica threads sharing each second; 1 sample in 10 in GC helpers, 3 in 10 in Ed25519.
    for (let sec = 102; sec <= 106; sec++) {
      for (let i = 0; i < 1000; i++) {
        const t = sec + i / 1000;
        if (i % 10 === 0) c.add(sample('V8Worker', 9, t, 'v8::internal::Scavenger::ScavengePage'));
        else c.add(sample('WorkerThread', 1 + (i % 4), t, i % 5 < 2 ? 'fe_mul' : 'Builtins_LoadIC'));
      }
    }
    // 107: the drain, at half the rate.
    for (let i = 0; i < 500; i++) c.add(sample('WorkerThread', 1 + (i % 4), 107 + i / 500, 'fe_sq'));
    const s = c.shares()!;
    expect([s.fromS, s.toS]).toEqual([102, 106]);
    expect(s.samples).toBe(5000);
    expect(s.share.ed25519).toBeCloseTo(0.3, 5);
    expect(s.share.v8Helpers).toBeCloseTo(0.1, 5);
    expect(s.share.other).toBeCloseTo(0.6, 5);
  });

  it('has no answer without a saturating phase', () => {
    const c = new SharesCounter();
    expect(c.shares()).toBeNull();
    for (let i = 0; i < 100; i++) c.add(sample('MainThread', 1, 5 + i / 100, 'fe_mul'));
    expect(c.shares()).toBeNull();
  });
});
