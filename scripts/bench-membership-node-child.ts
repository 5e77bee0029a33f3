/**
 * The node of `npm run bench:membership-node`, in a child process of its own so that its
 * CPU and memory are its own and nobody else's: one BizraNode as `bizra start` runs it
 * (default profile, HTTP API on loopback, process metrics, its own signature verifier
 * with no verified-signature cache), listening on loopback, kad-dht off (the load
 * generator plays relay peers, not DHT servers). It answers the parent over process IPC.
 *
 * Started by the parent with fork(); argv[2] is the data dir, a temp dir of its own. Messages:
 * it sends { kind: 'ready', ... } once listening, then answers each { id, op } with
 * { id, ok, value }: op 'sample' with a NodeSample, op 'suspicions' with every SUSPECT
 * transition since the node started (peer, absolute time, time since its last heartbeat:
 * the kill phase's figures). It stops the node and exits on { op: 'stop' }, on
 * SIGINT/SIGTERM and when the parent goes; in that last case it also removes the data
 * dir, as nobody else will.
 */
import { rmSync } from 'node:fs';
import type { PeerState } from '../consensus/membership/index.ts';
import { defaultConfig } from '../node/config/schema.ts';
import { initDataDir } from '../node/init.ts';
import { createLogger } from '../node/log.ts';
import { BizraNode } from '../node/node.ts';
import { absoluteNow } from '../testnet/handle.ts';
import type { SuspicionRecord } from '../testnet/kill-figures.ts';

/** What the parent reads at the start and end of a measurement window. */
export interface NodeSample {
  /** performance.now() in the child, ms. */
  atMs: number;
  /** process.cpuUsage(): user + system, every thread of this process, µs. */
  cpuMicros: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** performance.eventLoopUtilization() since the process started: busy and idle ms. */
  eluActiveMs: number;
  eluIdleMs: number;
  framesIn: number;
  framesOut: number;
  heartbeats: { accepted: number; duplicate: number; stale: number; invalid: number };
  states: Record<PeerState, number>;
  /** SUSPECT transitions since the node started. */
  suspicions: number;
  links: number;
}

export interface ChildReady {
  kind: 'ready';
  peerId: string;
  addrs: string[];
  relayDegree: number;
  heartbeatIntervalMs: number;
  relayDelayMs: number;
}

/** The answer to op 'suspicions'. */
export interface SuspicionLog {
  /** absoluteNow() when answered: the parent checks the two processes' clocks against it. */
  now: number;
  suspicions: SuspicionRecord[];
}

/** The most SUSPECT transitions kept: a size's kill phase needs its victims' and a few more. */
const MAX_SUSPICIONS = 100_000;

export type ChildRequest = { id: number; op: 'sample' | 'suspicions' | 'stop' };
export type ChildReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

async function sample(node: BizraNode, suspicions: number): Promise<NodeSample> {
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  const mem = process.memoryUsage();
  const frames = { in: 0, out: 0 };
  for (const v of (await node.metrics.relayFrames.get()).values) {
    if (v.labels.direction === 'in' || v.labels.direction === 'out') frames[v.labels.direction] += v.value;
  }
  const heartbeats = { accepted: 0, duplicate: 0, stale: 0, invalid: 0 };
  for (const v of (await node.metrics.heartbeatsReceived.get()).values) {
    const result = v.labels.result as keyof typeof heartbeats;
    if (result in heartbeats) heartbeats[result] += v.value;
  }
  return {
    atMs: performance.now(),
    cpuMicros: cpu.user + cpu.system,
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    eluActiveMs: elu.active,
    eluIdleMs: elu.idle,
    framesIn: frames.in,
    framesOut: frames.out,
    heartbeats,
    states: node.membership.view.counts(),
    suspicions,
    links: node.membership.relay.linkedPeers().length,
  };
}

async function main(dataDir: string): Promise<void> {
  const config = defaultConfig();
  config.p2p.listen = ['/ip4/127.0.0.1/tcp/0'];
  config.p2p.dht = false;
  config.api.host = '127.0.0.1';
  config.api.port = 0;
  const { identity } = await initDataDir(dataDir);
  const logger = createLogger({ level: 'error', format: 'json', destination: process.stderr });
  const node = await BizraNode.create({ config, dataDir, probeGpu: false }, { identity, logger });
  let suspicions = 0;
  const log: SuspicionRecord[] = [];
  node.membership.onTransition((t) => {
    if (t.to !== 'SUSPECT') return;
    suspicions++;
    if (log.length < MAX_SUSPICIONS) {
      log.push({ peerId: t.peerId, at: absoluteNow(), sinceLastHeartbeatMs: t.sinceLastHeartbeatMs });
    }
  });
  let stopping = false;
  let orphaned = false;
  /** Stops the node once, however many reasons to stop arrive; answers request `id` (if any) before exiting. */
  const stop = (code: number, id?: number) => {
    if (stopping) return;
    stopping = true;
    void node
      .stop()
      .catch(() => undefined)
      .then(() => {
        if (orphaned) rmSync(dataDir, { recursive: true, force: true });
        if (id === undefined || !process.connected) process.exit(code);
        else process.send?.({ id, ok: true, value: null } satisfies ChildReply, () => process.exit(code));
      });
  };
  process.on('SIGINT', () => stop(130));
  process.on('SIGTERM', () => stop(143));
  // The parent is gone (it crashed, or was killed): nobody will measure us.
  process.on('disconnect', () => {
    orphaned = !stopping;
    stop(1);
  });
  await node.start();
  process.on('message', (msg: ChildRequest) => {
    if (msg.op === 'stop') return stop(0, msg.id);
    if (msg.op === 'suspicions') {
      const value: SuspicionLog = { now: absoluteNow(), suspicions: log };
      process.send?.({ id: msg.id, ok: true, value } satisfies ChildReply);
      return;
    }
    sample(node, suspicions).then(
      (value) => process.send?.({ id: msg.id, ok: true, value } satisfies ChildReply),
      (err: unknown) => process.send?.({ id: msg.id, ok: false, error: String(err) } satisfies ChildReply),
    );
  });
  const ready: ChildReady = {
    kind: 'ready',
    peerId: node.peerId.toString(),
    addrs: node.host.getMultiaddrs().map(String),
    relayDegree: config.membership.relayDegree,
    heartbeatIntervalMs: config.membership.heartbeatIntervalMs,
    relayDelayMs: config.membership.relayDelayMs,
  };
  process.send?.(ready);
}

if (import.meta.main) {
  if (process.send === undefined) {
    process.stderr.write('bench-membership-node-child.ts runs only as a child of scripts/bench-membership-node.ts\n');
    process.exit(2);
  }
  main(process.argv[2] ?? '').catch((err: unknown) => {
    process.stderr.write(`bench:membership-node child: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  });
}
