import { describe, expect, it } from 'vitest';
import { CpuSlice, threadCpuMicros } from '../consensus/cpu-slice.ts';

/** Clocks the test moves by hand, counting the (costly) CPU-time reads. */
function fakeClocks() {
  const c = { wall: 0, cpu: 0, cpuReads: 0 };
  return {
    c,
    clocks: {
      wallMs: () => c.wall,
      cpuMicros: () => {
        c.cpuReads++;
        return c.cpu;
      },
    },
  };
}

describe('CpuSlice', () => {
  it('does not read the CPU clock until the wall clock could have covered the budget', () => {
    const { c, clocks } = fakeClocks();
    const slice = new CpuSlice(3000, clocks);
    slice.start();
    expect(c.cpuReads).toBe(1);
    for (let i = 0; i < 100; i++) {
      c.wall += 0.02; // 2 ms of wall time in all, under the 3 ms budget
      c.cpu += 20;
      expect(slice.spent()).toBe(false);
    }
    expect(c.cpuReads).toBe(1);
  });

  it('says spent once the CPU time reaches the budget', () => {
    const { c, clocks } = fakeClocks();
    const slice = new CpuSlice(3000, clocks);
    slice.start();
    c.wall = 3;
    c.cpu = 3000;
    expect(slice.spent()).toBe(true);
  });

  it('waits for the rest of the budget in wall time when the thread was descheduled', () => {
    const { c, clocks } = fakeClocks();
    const slice = new CpuSlice(3000, clocks);
    slice.start();
    c.wall = 10; // 10 ms passed, but the thread ran for only 1 ms of it
    c.cpu = 1000;
    expect(slice.spent()).toBe(false);
    expect(c.cpuReads).toBe(2);
    c.wall = 11.9; // 2 ms of CPU still to go: no read before 12 ms
    c.cpu = 2900;
    expect(slice.spent()).toBe(false);
    expect(c.cpuReads).toBe(2);
    c.wall = 12;
    c.cpu = 3000;
    expect(slice.spent()).toBe(true);
    expect(c.cpuReads).toBe(3);
  });

  it('starts afresh', () => {
    const { c, clocks } = fakeClocks();
    const slice = new CpuSlice(3000, clocks);
    slice.start();
    c.wall = 5;
    c.cpu = 5000;
    expect(slice.spent()).toBe(true);
    slice.start();
    expect(slice.spent()).toBe(false);
  });

  it('reads a real thread CPU clock that never runs ahead of the wall clock', () => {
    const wall0 = performance.now();
    const cpu0 = threadCpuMicros();
    let x = 0;
    while (performance.now() - wall0 < 100) x += Math.sqrt(x + 1);
    const cpu = threadCpuMicros() - cpu0;
    const wall = (performance.now() - wall0) * 1000;
    expect(x).toBeGreaterThan(0);
    expect(cpu).toBeGreaterThan(0);
    // The kernel accounts a thread's time at scheduler ticks (4 ms at HZ=250, 10 ms at
    // HZ=100): a reading can run a tick ahead (seen: 22.5 ms of CPU over 20.7 ms of wall
    // time, in a VM). More than a tick ahead would be a broken clock.
    expect(cpu).toBeLessThanOrEqual(wall + 10_000);
  });
});
