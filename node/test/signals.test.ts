import { describe, expect, it } from 'vitest';
import { DUPLICATE_SIGNAL_MS, signalJudge } from '../cli/signals.ts';

describe('shutdown signals', () => {
  it('the first signal stops, a repeat within a second is the same request, a later one forces', () => {
    const judge = signalJudge();
    expect(judge(10_000)).toBe('stop');
    expect(judge(10_000)).toBe('duplicate');
    expect(judge(10_000 + DUPLICATE_SIGNAL_MS - 1)).toBe('duplicate');
    expect(judge(10_000 + DUPLICATE_SIGNAL_MS)).toBe('force');
    expect(judge(10_000 + 60_000)).toBe('force');
  });

  it('each handler judges its own signals', () => {
    const a = signalJudge();
    const b = signalJudge();
    expect(a(0)).toBe('stop');
    expect(b(5000)).toBe('stop');
  });
});
