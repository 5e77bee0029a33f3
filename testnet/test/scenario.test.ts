import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../node/log.ts';
import { type Cluster, startCluster } from '../cluster.ts';
import { localHandle } from '../handle.ts';
import { renderScenario } from '../report.ts';
import { runKillScenario } from '../scenario.ts';

describe('the --kill/--restart membership scenario', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('times SUSPECT, DEAD and rejoin for each stopped node, with no false suspicion', async () => {
    cluster = await startCluster(
      {
        peers: 6,
        api: false,
        membership: true,
        tune: (c) => {
          c.p2p.dht = false;
          c.membership.deadAfterMs = 2000;
        },
      },
      { logger: createLogger({ level: 'silent', format: 'json' }) },
    );
    const report = await runKillScenario(localHandle(cluster), {
      kill: 2,
      restart: true,
      seed: 3,
      phaseTimeoutMs: 30_000,
    });
    expect(report.allActiveMs).not.toBeNull();
    expect(report.falseSuspicions).toBe(0);
    expect(report.kills).toHaveLength(2);
    for (const k of report.kills) {
      expect(k.allSuspectMs).toBeGreaterThan(2000);
      expect(k.allSuspectMs).toBeLessThan(8000);
      // Counted from the last heartbeat each survivor received: one interval more when the
      // victim's final heartbeat died with it (node/test/membership.test.ts holds the 6 s bound
      // against the last heartbeat sent).
      expect(k.maxDetectionMs).toBeLessThanOrEqual(7000);
      expect(k.allDeadMs).toBeGreaterThanOrEqual((k.allSuspectMs ?? 0) + 1500);
      expect(k.rejoinMs).not.toBeNull();
    }
    expect(renderScenario(report, false)).toMatch(/false suspicions: 0/);
  });
});
