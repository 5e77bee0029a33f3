import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HEARTBEAT_PROTOCOL } from '../../protocol/topics.ts';
import { generateIdentity } from '../identity.ts';
import { BizraNode } from '../node.ts';
import { silentLogger, startTestNode, tempDir, testConfig, waitFor } from './helpers.ts';

describe('node lifecycle', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const dir = () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    return t.path;
  };

  it('a stop during start leaves the node stopped and the data dir free', async () => {
    const dataDir = dir();
    const node = await BizraNode.create(
      { config: testConfig(), dataDir, probeGpu: false },
      { identity: await generateIdentity(), logger: silentLogger() },
    );
    // Catch at once: the rejection arrives while stop() is still running.
    const starting = node.start().then(
      () => undefined,
      (err: unknown) => err,
    );
    await node.stop();
    expect(String(await starting)).toMatch(/stopped while it was starting/);
    expect(node.running).toBe(false);
    expect(existsSync(join(dataDir, 'bizra.lock'))).toBe(false);
    const again = await startTestNode(dataDir);
    cleanups.push(() => again.stop());
    expect(again.running).toBe(true);
  });

  it('a second node on the same data dir in one process is refused and the first keeps running', async () => {
    const dataDir = dir();
    const first = await startTestNode(dataDir);
    cleanups.push(() => first.stop());
    await expect(startTestNode(dataDir)).rejects.toThrow(/data dir is in use/);
    expect(first.running).toBe(true);
    expect((await first.health()).status).toBe('ok');
  });

  it('a start that fails (API port taken) gives back the lock and the store', async () => {
    const dataDir = dir();
    const first = await startTestNode(dir());
    cleanups.push(() => first.stop());
    const taken = first.apiAddress?.port as number;
    await expect(startTestNode(dataDir, (c) => (c.api.port = taken))).rejects.toThrow(/EADDRINUSE/);
    expect(existsSync(join(dataDir, 'bizra.lock'))).toBe(false);
    const ok = await startTestNode(dataDir);
    cleanups.push(() => ok.stop());
    // The failed start was counted before the API refused: boots record every attempt.
    expect(ok.info().boots).toBe(2);
  });

  it('p2p.dht decides whether the node runs kad-dht', async () => {
    const withDht = await startTestNode(dir());
    cleanups.push(() => withDht.stop());
    const without = await startTestNode(dir(), (c) => (c.p2p.dht = false));
    cleanups.push(() => without.stop());
    expect('dht' in withDht.host.services).toBe(true);
    expect('dht' in without.host.services).toBe(false);
    expect(withDht.host.getProtocols()).toContain('/bizra/kad/1.0.0');
    expect(without.host.getProtocols()).not.toContain('/bizra/kad/1.0.0');
  });

  it('dials its bootstrap peers at start', async () => {
    const a = await startTestNode(dir());
    cleanups.push(() => a.stop());
    const address = String(a.host.getMultiaddrs()[0]);
    const b = await startTestNode(dir(), (c) => (c.p2p.bootstrap = [address]));
    cleanups.push(() => b.stop());
    await waitFor('bootstrap connection', () => b.peers().some((p) => p.peerId === a.peerId.toString()));
  });

  it('health fails the peers check when no bootstrap peer answers after the grace period', async () => {
    const dead = '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWDy4PGfW54KfvW7RbCsm3LhTf4vRq95J4dX7EpixZLJQm';
    const node = await BizraNode.create(
      { config: testConfig((c) => (c.p2p.bootstrap = [dead])), dataDir: dir(), probeGpu: false, peerGraceMs: 0 },
      { identity: await generateIdentity(), logger: silentLogger() },
    );
    await node.start();
    cleanups.push(() => node.stop());
    await new Promise((r) => setTimeout(r, 20));
    const report = await node.health();
    expect(report.status).toBe('failing');
    expect(report.failing).toEqual(['peers']);
    expect(report.checks.peers?.detail).toMatch(/none of the bootstrap peers answered/);
  });

  it('membership.enabled decides whether the node publishes and watches heartbeats', async () => {
    const on = await startTestNode(dir());
    cleanups.push(() => on.stop());
    const off = await startTestNode(dir(), (c) => (c.membership.enabled = false));
    cleanups.push(() => off.stop());
    expect(on.host.getProtocols()).toContain(HEARTBEAT_PROTOCOL);
    expect(off.host.getProtocols()).not.toContain(HEARTBEAT_PROTOCOL);
    const sent = async () => (await on.metrics.heartbeatsSent.get()).values[0]?.value ?? 0;
    const deadline = Date.now() + 5000;
    while ((await sent()) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await sent()).toBeGreaterThanOrEqual(1);
    expect((await off.metrics.heartbeatsSent.get()).values[0]?.value ?? 0).toBe(0);
  });

  it('stop is idempotent', async () => {
    const node = await startTestNode(dir());
    await node.stop();
    await node.stop();
    expect(node.running).toBe(false);
  });
});
