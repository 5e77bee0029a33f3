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
import { createLogger } from '../node/log.ts';
import { argsOrExitCode, intArg, parseQuietly } from '../testnet/args.ts';
import { mulberry32, startCluster } from '../testnet/cluster.ts';
import {
  absoluteNow,
  type ClusterHandle,
  localHandle,
  type ObservedTransition,
  type RelayTraffic,
} from '../testnet/handle.ts';
import { killPhaseMs } from '../testnet/kill-figures.ts';
import { sleep } from '../testnet/mesh.ts';
import { applySettings } from '../testnet/settings.ts';
import { startWorkerCluster } from '../testnet/worker-cluster.ts';
import { percentile } from './bench-testnet.ts';
import { rawVerifyRate } from './machine-baseline.ts';

interface Args {
  peers: number;
  kill: number;
  quiet: number;
  seed: number;
  relayDegree?: number;
  relayDelay?: number;
  workers: number;
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
      new Option('--relay-delay <ms>', 'heartbeat relay batching delay (default: the setting)').argParser(
        intArg(0, 1000),
      ),
    )
    .addOption(
      new Option('--workers <n>', 'worker threads to spread the nodes over (1: all in this event loop)')
        .argParser(intArg(1, 16))
        .default(1),
    )
    .option('--json', 'print the report as JSON', false);
}

export function parseArgs(argv: readonly string[]): Args | { help: string } {
  const p = program();
  return parseQuietly(p, argv) ?? p.opts<Args>();
}

const MiB = 1024 * 1024;
/** membership.heartbeatIntervalMs as the nodes run it (the default). */
const HEARTBEAT_INTERVAL_MS = 1_000;
const round = (n: number) => Math.round(n * 10) / 10;

async function run(args: Args, root: string) {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const baseline = process.memoryUsage().rss;
  const rawVerifyPerSecond = Math.round(rawVerifyRate());
  const settings = {
    'p2p.dht': false,
    ...(args.relayDegree !== undefined ? { 'membership.relayDegree': args.relayDegree } : {}),
    ...(args.relayDelay !== undefined ? { 'membership.relayDelayMs': args.relayDelay } : {}),
  };
  const startedAt = performance.now();
  const onProgress = (started: number, total: number) => {
    if (started % 25 === 0 || started === total)
      log(`started ${started} of ${total} nodes in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
  };
  const cluster =
    args.workers > 1
      ? await startWorkerCluster({
          peers: args.peers,
          workers: args.workers,
          root,
          seed: args.seed,
          settings,
          onProgress,
        })
      : localHandle(
          await startCluster(
            {
              peers: args.peers,
              root,
              api: false,
              membership: true,
              seed: args.seed,
              tune: (c) => applySettings(c, settings),
              onProgress,
            },
            { logger: createLogger({ level: 'error', format: 'json', destination: process.stderr }) },
          ),
        );
  try {
    const n = cluster.size;
    const activeEverywhere = async () => (await cluster.activeCounts()).every((c) => c === n - 1);
    const t0 = performance.now();
    while (!(await activeEverywhere()) && performance.now() - t0 < 120_000) await sleep(100);
    const allActiveSeconds = (await activeEverywhere()) ? (performance.now() - t0) / 1000 : null;
    log(
      `all ACTIVE: ${allActiveSeconds === null ? 'not within 120 s' : `${allActiveSeconds.toFixed(1)} s`}; quiet for ${args.quiet} s`,
    );

    const transitions: ObservedTransition[] = [];
    cluster.onSuspicion((t) => transitions.push(t));
    const traffic0 = await cluster.relayTraffic();
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const elu = await watchQuietPeriod(cluster, args.quiet, transitions, log);
    const cpu = process.cpuUsage(cpu0);
    const cpuCores = (cpu.user + cpu.system) / 1000 / (performance.now() - wall0);
    const traffic1 = await cluster.relayTraffic();
    const perSecondPerNode = (k: keyof RelayTraffic) => round((traffic1[k] - traffic0[k]) / args.quiet / n);
    const rss = process.memoryUsage().rss;
    const falseSuspects = transitions.filter((t) => t.to === 'SUSPECT').length;

    const rand = mulberry32(args.seed);
    const victims = new Set<number>();
    while (victims.size < Math.min(args.kill, n - 1)) victims.add(Math.floor(rand() * n));
    const ids = new Set([...victims].map((i) => cluster.peerId(i)));
    transitions.length = 0;
    // How long detection takes depends on where in the heartbeat interval a node dies:
    // just after it sent a heartbeat, survivors wait a whole interval longer than just
    // before. Every node sends on the same wall-clock phase, so killing all victims at
    // one moment would sample one phase. Victim k dies at phase (k + 1/2) / K of an
    // interval instead: a stratified sample of crash times, as crashes come at random.
    const killedAt = new Map<string, number>();
    for (const [k, i] of [...victims].entries()) {
      const phase = killPhaseMs(k, victims.size, HEARTBEAT_INTERVAL_MS);
      await sleep((phase - (Date.now() % HEARTBEAT_INTERVAL_MS) + HEARTBEAT_INTERVAL_MS) % HEARTBEAT_INTERVAL_MS);
      killedAt.set(cluster.peerId(i), await cluster.stop(i));
    }
    const lastKill = Math.max(...killedAt.values());
    const done = async () => {
      for (const id of ids) if (!(await cluster.statesOf(id)).every((s) => s === null || s === 'SUSPECT')) return false;
      return true;
    };
    while (!(await done()) && absoluteNow() - lastKill < 60_000) await sleep(100);
    // The first SUSPECT of each (survivor, victim): a heartbeat still in flight at the kill
    // can bring a victim back to ACTIVE for a moment on an overloaded survivor. A victim
    // stopped late (stops are one by one, slow on a saturated loop) may have suspected an
    // earlier one before it died: not a survivor's view, so not counted.
    const firstSuspicion = new Map<string, ObservedTransition>();
    for (const t of transitions) {
      const pair = `${t.observer} ${t.peerId}`;
      if (t.to !== 'SUSPECT' || !ids.has(t.peerId) || victims.has(t.observer)) continue;
      if (!firstSuspicion.has(pair)) firstSuspicion.set(pair, t);
    }
    const suspects = [...firstSuspicion.values()];
    if (suspects.length < (n - victims.size) * victims.size) {
      // Say which survivors never suspected a victim, and what they think of it now.
      for (const id of ids) {
        const states = await cluster.statesOf(id);
        const seen = new Set(suspects.filter((t) => t.peerId === id).map((t) => t.observer));
        const missing = states.flatMap((s, i) => (s === null || seen.has(i) ? [] : [`node ${i}: ${s ?? 'unknown'}`]));
        if (missing.length > 0) log(`victim ${id} never SUSPECT on ${missing.length}: ${missing.join(', ')}`);
      }
    }
    const fromKill = suspects.map((t) => t.at - killedAt.get(t.peerId)!).sort((a, b) => a - b);
    const fromLast = suspects.map((t) => t.sinceLastHeartbeatMs).sort((a, b) => a - b);
    return {
      peers: args.peers,
      workers: Math.max(1, args.workers),
      node: process.version,
      rawVerifyPerSecond,
      allActiveSeconds,
      quietSeconds: args.quiet,
      falseSuspects,
      cpuCoresWhileQuiet: Math.round(cpuCores * 100) / 100,
      cpuPerPeerPercent: round((cpuCores / args.peers) * 100),
      eventLoopUtilization: elu.map((u) => Math.round(u * 100) / 100),
      perNodePerSecond: {
        framesOut: perSecondPerNode('framesOut'),
        heldBack: perSecondPerNode('heldBack'),
        heartbeatsAccepted: perSecondPerNode('accepted'),
        duplicateCopies: perSecondPerNode('duplicate'),
      },
      rssMiB: round(rss / MiB),
      rssPerPeerMiB: round((rss - baseline) / args.peers / MiB),
      killed: victims.size,
      suspicionsSeen: suspects.length,
      suspicionsExpected: (n - victims.size) * victims.size,
      killToSuspectMs: { p50: Math.round(percentile(fromKill, 50)), p99: Math.round(percentile(fromKill, 99)) },
      lastHeartbeatToSuspectMs: {
        p50: Math.round(percentile(fromLast, 50)),
        p99: Math.round(percentile(fromLast, 99)),
      },
    };
  } finally {
    await cluster.stopAll();
  }
}

/**
 * Waits out the quiet period, printing every 30 s how busy the machine was over the last
 * 30 s: a drift in cost over a long run shows as it happens, not only in the average.
 * Returns each event loop's busy share over the whole period.
 */
async function watchQuietPeriod(
  cluster: ClusterHandle,
  seconds: number,
  transitions: readonly ObservedTransition[],
  log: (s: string) => void,
): Promise<number[]> {
  const start = performance.now();
  const end = start + seconds * 1000;
  cluster.eventLoopUtilization(); // starts the first sample now
  const busyMs: number[] = [];
  let cpu = process.cpuUsage();
  let wall = start;
  while (wall < end) {
    await sleep(Math.min(30_000, end - wall));
    const now = performance.now();
    const used = process.cpuUsage(cpu);
    const loops = cluster.eventLoopUtilization();
    for (const [i, u] of loops.entries()) busyMs[i] = (busyMs[i] ?? 0) + u * (now - wall);
    if (now < end - 1) {
      const cores = (used.user + used.system) / 1000 / (now - wall);
      const suspects = transitions.filter((t) => t.to === 'SUSPECT').length;
      const busy = loops.map((u) => `${Math.round(u * 100)} %`).join(', ');
      log(
        `  quiet ${Math.round((now - start) / 1000)} s: ${cores.toFixed(2)} cores, event loop(s) ${busy} busy, ${suspects} false SUSPECT(s)`,
      );
    }
    cpu = process.cpuUsage();
    wall = now;
  }
  return busyMs.map((ms) => ms / (wall - start));
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
          `bench:membership  ${r.peers} nodes in ${r.workers} event loop(s), 1 s heartbeats, kad-dht off, Node ${r.node}`,
          `  machine              ${r.rawVerifyPerSecond} raw Ed25519 verifies/s on one core`,
          `  all ACTIVE           ${r.allActiveSeconds === null ? 'not reached' : `${r.allActiveSeconds.toFixed(1)} s after start`}`,
          `  quiet ${r.quietSeconds} s         ${r.falseSuspects} false SUSPECT transition(s)`,
          `  CPU                  ${r.cpuCoresWhileQuiet} cores = ${r.cpuPerPeerPercent} % of a core per peer; event loop(s) ${r.eventLoopUtilization.map((u) => `${Math.round(u * 100)} %`).join(', ')} busy`,
          `  relay, per node      ${r.perNodePerSecond.framesOut} frames/s out (${r.perNodePerSecond.heldBack} held back by full links), ${r.perNodePerSecond.heartbeatsAccepted} heartbeats/s accepted, ${r.perNodePerSecond.duplicateCopies} duplicate copies/s dropped`,
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
