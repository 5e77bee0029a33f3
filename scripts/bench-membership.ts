/**
 * `npm run bench:membership -- --peers 16 --kill 3 --quiet 60`: heartbeats and the
 * phi-accrual detector in an in-process testnet (kad-dht off). Measures
 *   - RSS and CPU per peer while every node heartbeats every second,
 *   - SUSPECT transitions during a quiet period with no kills (should be 0),
 *   - p50 and p99, over every survivor, of the time from a kill to SUSPECT and
 *     from the victim's last heartbeat to SUSPECT.
 * Every node hears every heartbeat, so the cost grows with the square of --peers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import type { Transition } from '../consensus/membership/index.ts';
import { createLogger } from '../node/log.ts';
import type { BizraNode } from '../node/node.ts';
import { argsOrExitCode, intArg, parseQuietly } from '../testnet/args.ts';
import { mulberry32, startCluster } from '../testnet/cluster.ts';
import { sleep } from '../testnet/mesh.ts';
import { percentile } from './bench-testnet.ts';

interface Args {
  peers: number;
  kill: number;
  quiet: number;
  seed: number;
  relayDegree?: number;
  relayInterval?: number;
  json: boolean;
}

function program(): Command {
  return new Command('bench:membership')
    .description('Heartbeat cost, false suspicions and kill-to-SUSPECT latency in an in-process testnet.')
    .addOption(new Option('--peers <n>', 'nodes (3 to 500)').argParser(intArg(3, 500)).default(16))
    .addOption(new Option('--kill <k>', 'nodes to stop after the quiet period').argParser(intArg(1, 100)).default(3))
    .addOption(
      new Option('--quiet <seconds>', 'seconds with no kills, counting false SUSPECTs')
        .argParser(intArg(1, 3600))
        .default(60),
    )
    .addOption(
      new Option('--seed <s>', 'seed for the topology and the victims').argParser(intArg(0, 0xffff_ffff)).default(1),
    )
    .addOption(
      new Option('--relay-degree <n>', 'heartbeat relay links each node opens (default: the setting)').argParser(
        intArg(1, 64),
      ),
    )
    .addOption(
      new Option('--relay-interval <ms>', 'heartbeat relay flush interval (default: the setting)').argParser(
        intArg(10, 10_000),
      ),
    )
    .option('--json', 'print the report as JSON', false);
}

export function parseArgs(argv: readonly string[]): Args | { help: string } {
  const p = program();
  return parseQuietly(p, argv) ?? p.opts<Args>();
}

const MiB = 1024 * 1024;
const round = (n: number) => Math.round(n * 10) / 10;

async function run(args: Args, root: string) {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const logger = createLogger({ level: 'error', format: 'json', destination: process.stderr });
  const baseline = process.memoryUsage().rss;
  const cluster = await startCluster(
    {
      peers: args.peers,
      root,
      api: false,
      membership: true,
      seed: args.seed,
      tune: (c) => {
        c.p2p.dht = false;
        if (args.relayDegree !== undefined) c.membership.relayDegree = args.relayDegree;
        if (args.relayInterval !== undefined) c.membership.relayIntervalMs = args.relayInterval;
      },
    },
    { logger },
  );
  try {
    const nodes = cluster.nodes;
    const activeEverywhere = () => nodes.every((n) => n.membership.view.counts().ACTIVE === nodes.length - 1);
    const t0 = performance.now();
    while (!activeEverywhere() && performance.now() - t0 < 120_000) await sleep(100);
    const allActiveSeconds = activeEverywhere() ? (performance.now() - t0) / 1000 : null;
    log(
      `all ACTIVE: ${allActiveSeconds === null ? 'not within 120 s' : `${allActiveSeconds.toFixed(1)} s`}; quiet for ${args.quiet} s`,
    );

    const transitions: Array<Transition & { at: number }> = [];
    for (const n of nodes) n.membership.onTransition((t) => transitions.push({ ...t, at: performance.now() }));
    const traffic0 = await relayTraffic(nodes);
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const wall0 = performance.now();
    await sleep(args.quiet * 1000);
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0).utilization;
    const traffic1 = await relayTraffic(nodes);
    const perSecondPerNode = (k: keyof RelayTraffic) => round((traffic1[k] - traffic0[k]) / args.quiet / nodes.length);
    const cpuCores = (cpu.user + cpu.system) / 1000 / (performance.now() - wall0);
    const rss = process.memoryUsage().rss;
    const falseSuspects = transitions.filter((t) => t.to === 'SUSPECT').length;

    const rand = mulberry32(args.seed);
    const victims = new Set<number>();
    while (victims.size < Math.min(args.kill, nodes.length - 1)) victims.add(Math.floor(rand() * nodes.length));
    const ids = new Set([...victims].map((i) => (nodes[i] as BizraNode).peerId.toString()));
    const survivors = nodes.filter((_, i) => !victims.has(i));
    transitions.length = 0;
    const killedAt = performance.now();
    await Promise.all([...victims].map((i) => (nodes[i] as BizraNode).stop()));
    const done = () => survivors.every((s) => [...ids].every((id) => s.membership.view.get(id)?.state === 'SUSPECT'));
    while (!done() && performance.now() - killedAt < 60_000) await sleep(50);
    const suspects = transitions.filter((t) => t.to === 'SUSPECT' && ids.has(t.peerId));
    const fromKill = suspects.map((t) => t.at - killedAt).sort((a, b) => a - b);
    const fromLast = suspects.map((t) => t.sinceLastHeartbeatMs).sort((a, b) => a - b);
    return {
      peers: args.peers,
      node: process.version,
      allActiveSeconds,
      quietSeconds: args.quiet,
      falseSuspects,
      cpuCoresWhileQuiet: Math.round(cpuCores * 100) / 100,
      cpuPerPeerPercent: round((cpuCores / args.peers) * 100),
      eventLoopUtilization: Math.round(elu * 100) / 100,
      perNodePerSecond: {
        framesOut: perSecondPerNode('framesOut'),
        heartbeatsAccepted: perSecondPerNode('accepted'),
        duplicateCopies: perSecondPerNode('duplicate'),
      },
      rssMiB: round(rss / MiB),
      rssPerPeerMiB: round((rss - baseline) / args.peers / MiB),
      killed: victims.size,
      suspicionsSeen: suspects.length,
      suspicionsExpected: survivors.length * victims.size,
      killToSuspectMs: { p50: Math.round(percentile(fromKill, 50)), p99: Math.round(percentile(fromKill, 99)) },
      lastHeartbeatToSuspectMs: {
        p50: Math.round(percentile(fromLast, 50)),
        p99: Math.round(percentile(fromLast, 99)),
      },
    };
  } finally {
    await cluster.stop();
  }
}

interface RelayTraffic {
  framesOut: number;
  accepted: number;
  duplicate: number;
}

/** Relay frames sent and heartbeats received, summed over every node's own registry. */
async function relayTraffic(nodes: readonly BizraNode[]): Promise<RelayTraffic> {
  const total: RelayTraffic = { framesOut: 0, accepted: 0, duplicate: 0 };
  for (const n of nodes) {
    for (const v of (await n.metrics.relayFrames.get()).values)
      if (v.labels.direction === 'out') total.framesOut += v.value;
    for (const v of (await n.metrics.heartbeatsReceived.get()).values) {
      if (v.labels.result === 'accepted') total.accepted += v.value;
      if (v.labels.result === 'duplicate') total.duplicate += v.value;
    }
  }
  return total;
}

async function main(argv: readonly string[]): Promise<number> {
  const args = argsOrExitCode('bench:membership', parseArgs, argv);
  if (typeof args === 'number') return args;
  const root = mkdtempSync(join(tmpdir(), 'bizra-bench-membership-'));
  try {
    const r = await run(args, root);
    if (args.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else {
      process.stdout.write(
        [
          `bench:membership  ${r.peers} nodes, 1 s heartbeats, kad-dht off, Node ${r.node}`,
          `  all ACTIVE           ${r.allActiveSeconds === null ? 'not reached' : `${r.allActiveSeconds.toFixed(1)} s after start`}`,
          `  quiet ${r.quietSeconds} s         ${r.falseSuspects} false SUSPECT transition(s)`,
          `  CPU                  ${r.cpuCoresWhileQuiet} cores = ${r.cpuPerPeerPercent} % of a core per peer; event loop ${Math.round(r.eventLoopUtilization * 100)} % busy`,
          `  relay, per node      ${r.perNodePerSecond.framesOut} frames/s out, ${r.perNodePerSecond.heartbeatsAccepted} heartbeats/s accepted, ${r.perNodePerSecond.duplicateCopies} duplicate copies/s dropped`,
          `  RSS                  ${r.rssMiB} MiB = ${r.rssPerPeerMiB} MiB per peer above baseline`,
          `  kill ${r.killed}               ${r.suspicionsSeen}/${r.suspicionsExpected} survivor suspicions`,
          `  kill -> SUSPECT      p50 ${r.killToSuspectMs.p50} ms, p99 ${r.killToSuspectMs.p99} ms`,
          `  last hb -> SUSPECT   p50 ${r.lastHeartbeatToSuspectMs.p50} ms, p99 ${r.lastHeartbeatToSuspectMs.p99} ms`,
          '',
        ].join('\n'),
      );
    }
    return r.falseSuspects === 0 && r.suspicionsSeen === r.suspicionsExpected ? 0 : 1;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bench:membership: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
