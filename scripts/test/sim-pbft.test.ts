/**
 * sim:pbft's command line: bad options are refused with a clear message before any seed
 * runs, and a short run with gateway clients reports their relays and passes.
 */
import { describe, expect, it } from 'vitest';
import { runScript, type ScriptRun } from './run-script.ts';

const sim = (args: string[]): Promise<ScriptRun> => runScript('sim-pbft.ts', args);

describe('sim:pbft', () => {
  it('refuses more gateway clients than clients, and a count that is not an integer, before running', async () => {
    const tooMany = await sim(['--seeds', '1', '--clients', '2', '--gateway-clients', '3']);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toContain('--gateway-clients must be at most the 2 clients, got 3');
    expect(tooMany.stdout).toBe('');
    const junk = await sim(['--seeds', '1', '--gateway-clients', 'two']);
    expect(junk.code).toBe(2);
    expect(junk.stderr).toContain('--gateway-clients must be an integer >= 0, got "two"');
  });

  it('runs seeds with gateway clients, counting the requests their validators relayed', async () => {
    const r = await sim(['--seeds', '12', '--start', '3001', '--gateway-clients', '3']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.startsWith('12 seeds'));
    expect(line).toMatch(/; 0 failed;/);
    const relayed = Number(/; (\d+) requests relayed by gateways/.exec(line ?? '')?.[1]);
    expect(relayed).toBeGreaterThan(0);
  }, 60_000);
});
