import { describe, expect, it } from 'vitest';
import { parseNvidiaSmi, probeGpus } from '../gpu.ts';
import { runHealthChecks } from '../health.ts';

describe('nvidia-smi parsing', () => {
  it('reads name and memory per GPU, including names with commas', () => {
    const text = 'NVIDIA GeForce RTX 4090, 24564\nNVIDIA A100-SXM4-80GB, 81920\n\n';
    expect(parseNvidiaSmi(text)).toEqual([
      { name: 'NVIDIA GeForce RTX 4090', memoryMiB: 24564 },
      { name: 'NVIDIA A100-SXM4-80GB', memoryMiB: 81920 },
    ]);
    expect(parseNvidiaSmi('Weird, Name, 1024')).toEqual([{ name: 'Weird, Name', memoryMiB: 1024 }]);
  });

  it('ignores driver errors and junk', () => {
    expect(parseNvidiaSmi('NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.')).toEqual(
      [],
    );
    expect(parseNvidiaSmi('GPU, [N/A]')).toEqual([]);
  });

  it('reports no GPU when the command is missing', async () => {
    expect(await probeGpus('/nonexistent/nvidia-smi')).toEqual([]);
  });
});

describe('health checks', () => {
  it('is ok only when every check passes, and lists the failing ones', async () => {
    const ok = await runHealthChecks({ a: () => ({ ok: true, detail: 'fine' }) });
    expect(ok.status).toBe('ok');
    const bad = await runHealthChecks(
      {
        a: () => ({ ok: true, detail: 'fine' }),
        b: () => ({ ok: false, detail: 'broken' }),
        c: () => {
          throw new Error('threw');
        },
        d: () => new Promise(() => undefined),
      },
      50,
    );
    expect(bad.status).toBe('failing');
    expect(bad.failing).toEqual(['b', 'c', 'd']);
    expect(bad.checks.c?.detail).toBe('threw');
    expect(bad.checks.d?.detail).toBe('no answer within 50 ms');
  });
});
