/**
 * `npm run bench:membership-node -- --peers 200,500,1000 --seconds 30`: what ONE real node
 * costs in a federation of N peers. The node runs alone in a child process
 * (scripts/bench-membership-node-child.ts: a BizraNode as `bizra start` builds it, with
 * its own signature verifier); this process plays the other N - 1 peers with a load
 * generator (testnet/heartbeat-load.ts) over real libp2p (TCP, Noise, Yamux): every
 * second, on the node's wall-clock phase, every origin's signed heartbeat arrives over
 * `--links` relay links, with `--dup` duplicate copies each, batched as the relay
 * batches (testnet/heartbeat-wave.ts).
 *
 * For each size: warm-up until the node sees all N - 1 peers ACTIVE, then `--seconds` of
 * measurement: the node process's CPU, RSS and event-loop use, heartbeats accepted and
 * duplicates dropped per second (its own metrics), relay frames per second, SUSPECT
 * transitions in the window and peers not ACTIVE at its end, and the generator's own
 * CPU and lag (a generator that cannot keep up would make the node look cheaper, or
 * make peers look dead). The in-process testnet (bench:membership) cannot show this:
 * its nodes share one event loop per thread and one verified-signature cache.
 *
 * Then, after the window's figures are taken, the kill phase (`--kill K`, 0: none): the
 * generator stops K seeded-random origins that are not link peers (their heartbeats
 * reach the node through the relay, as a far node's would), one by one, victim k at
 * phase (k + 1/2) / K of the heartbeat interval (a stratified sample of crash times, as
 * in bench:membership); a heartbeat a victim sent before its stop still arrives, none
 * after it (HeartbeatLoad.kill). The node reports its SUSPECT transitions; once every
 * victim is SUSPECT (or 30 s after the last kill), the size reports p50 / p99 / max of
 * kill -> SUSPECT and of last heartbeat -> SUSPECT (the node's own figure), over each
 * victim's first SUSPECT, the victims never suspected, and the false suspicions: peers
 * not (yet) stopped that went SUSPECT during the kill phase.
 *
 * Exits 1 if any size ends its window with a peer not ACTIVE or saw a SUSPECT transition
 * in it, or in its kill phase left a victim unsuspected or suspected a live peer.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { argsOrExitCode, intArg, numberArg, parseQuietly, UsageError } from '../testnet/args.ts';
import { mulberry32 } from '../testnet/cluster.ts';
import { absoluteNow } from '../testnet/handle.ts';
import { HeartbeatLoad, type LoadCounters } from '../testnet/heartbeat-load.ts';
import { chooseVictims } from '../testnet/heartbeat-wave.ts';
import { type KillFigures, killFigures, killPhaseMs, type Spread, type Victim } from '../testnet/kill-figures.ts';
import { sleep } from '../testnet/mesh.ts';
import type { ChildReady, ChildReply, ChildRequest, NodeSample, SuspicionLog } from './bench-membership-node-child.ts';
import { percentile } from './bench-testnet.ts';

export interface Args {
  peers: number[];
  seconds: number;
  links: number;
  dup: number;
  warmup: number;
  /** Seconds the node is measured connected but without peers' heartbeats, before the load. */
  idle: number;
  seed: number;
  /** Origins to stop after the window, to time their detection (0: no kill phase). */
  kill: number;
  /** Write a V8 CPU profile of the node process (not the generator) into this directory. */
  cpuProf?: string;
  json: boolean;
}

/** Federation sizes: the node plus the peers the generator plays. */
const MAX_PEERS = 10_000;
/** The most links a node accepts in all (3 x the default relayDegree of 2). */
const MAX_LINKS = 6;

/** Comma-separated federation sizes, each an integer from `min` to `max`. */
export function peerListArg(min: number, max: number): (value: string) => number[] {
  return (value) => {
    const parts = value.split(',').map((p) => p.trim());
    const one = intArg(min, max);
    try {
      return parts.map((p) => one(p));
    } catch {
      throw new InvalidArgumentError(`Expected comma-separated integers from ${min} to ${max}.`);
    }
  };
}

function program(): Command {
  return new Command('bench:membership-node')
    .description(
      'CPU, RSS and relay traffic of one real node (its own process) heartbeating with N - 1 generated peers.',
    )
    .addOption(
      new Option('--peers <list>', `federation sizes, comma-separated (each ${MAX_PEERS} at most)`)
        .argParser(peerListArg(2, MAX_PEERS))
        .default([200, 500], '200,500'),
    )
    .addOption(new Option('--seconds <s>', 'measurement window per size').argParser(intArg(1, 3600)).default(30))
    .addOption(
      new Option('--links <l>', `relay links with the node (1 to ${MAX_LINKS}); the node opens 2 of them, as it would`)
        .argParser(intArg(1, MAX_LINKS))
        .default(4),
    )
    .addOption(
      new Option('--dup <d>', 'mean duplicate copies of each heartbeat, over other links (at most --links - 1)')
        .argParser(numberArg(0, MAX_LINKS - 1))
        .default(1.5),
    )
    .addOption(
      new Option('--warmup <seconds>', 'give up waiting for all peers ACTIVE after this long')
        .argParser(intArg(5, 3600))
        .default(120),
    )
    .addOption(
      new Option(
        '--idle <seconds>',
        "measure the node's own cost, connected but without peers' heartbeats, this long first",
      )
        .argParser(intArg(1, 600))
        .default(5),
    )
    .addOption(
      new Option(
        '--kill <k>',
        'after the window, stop this many origins (not link peers) and time their SUSPECT on the node; 0: no kill phase',
      )
        .argParser(intArg(0, MAX_PEERS))
        .default(20),
    )
    .addOption(
      new Option('--seed <s>', 'seed for the wave model (depths, links, timing) and the victims')
        .argParser(intArg(0, 0xffff_ffff))
        .default(1),
    )
    .option(
      '--cpu-prof <dir>',
      "write a V8 CPU profile of the node's process (not the generator's) into this directory",
    )
    .option('--json', 'print the report as JSON', false);
}

export function parseArgs(argv: readonly string[]): Args | { help: string } {
  const p = program();
  const help = parseQuietly(p, argv);
  if (help) return help;
  const args = p.opts<Args>();
  if (args.dup > args.links - 1) {
    throw new UsageError(
      `--dup ${args.dup} needs at least ${Math.ceil(args.dup) + 1} links; --links is ${args.links}.`,
    );
  }
  const small = args.peers.find((n) => n - 1 < args.links);
  if (small !== undefined) {
    throw new UsageError(`--peers ${small} is too few for --links ${args.links}: every link peer is a peer.`);
  }
  const few = args.peers.find((n) => args.kill > n - 1 - args.links);
  if (few !== undefined) {
    throw new UsageError(
      `--kill ${args.kill} is too many for --peers ${few} with --links ${args.links}: at most ${few - 1 - args.links} peers are not link peers.`,
    );
  }
  return args;
}

export interface KillResult extends KillFigures {
  /** From the first kill to the last, ms (the K phases are spread over one interval). */
  killSpanMs: number;
  /**
   * The node's clock minus ours (both absoluteNow), read over IPC in the round trip
   * that took least, ± half that round trip: the error in the kill -> SUSPECT times.
   */
  clockOffsetMs: { estimate: number; within: number };
  ok: boolean;
}

export interface SizeResult {
  peers: number;
  links: number;
  dup: number;
  seconds: number;
  /** From the first wave to all N - 1 peers ACTIVE; null if not within --warmup. */
  allActiveSeconds: number | null;
  node: {
    cpuCores: number;
    /** Before the load: linked to the generator, sending its own heartbeats, hearing none. */
    idleCpuCores: number;
    /** CPU above idle (% of one core) per peer heard. */
    cpuPerPeerPercent: number;
    /** CPU above idle per heartbeat accepted (its duplicates and its forwarding included), µs. */
    cpuMicrosPerHeartbeat: number;
    eventLoopUtilization: number;
    rssMiB: number;
    /** RSS once connected, before the first heartbeat. */
    rssBeforeLoadMiB: number;
    rssPerPeerKiB: number;
    heapUsedMiB: number;
    heapBeforeLoadMiB: number;
    heartbeatsAcceptedPerSecond: number;
    duplicatesDroppedPerSecond: number;
    staleOrInvalid: number;
    framesInPerSecond: number;
    framesOutPerSecond: number;
    links: number;
    endStates: NodeSample['states'];
    suspicionsInWindow: number;
  };
  generator: {
    cpuCores: number;
    eventLoopUtilization: number;
    lagMs: { p50: number; p99: number; max: number };
    signMsPerWave: number;
    framesSentPerSecond: number;
    framesUnsent: number;
    sendsBackpressured: number;
    framesReceivedPerSecond: number;
  };
  /** The kill phase after the window; null with --kill 0. */
  kill: KillResult | null;
  ok: boolean;
}

/** How long after the last kill the node has to suspect every victim. */
const KILL_TIMEOUT_MS = 30_000;
/** How often the node is asked for its SUSPECT transitions while they are awaited. */
const KILL_POLL_MS = 200;
/** Mixed into --seed for the victims, so that they are not drawn from the wave model's own sequence. */
const VICTIM_SEED = 0x6b11_1ed5;

const CHILD = fileURLToPath(new URL('./bench-membership-node-child.ts', import.meta.url));
const MiB = 1024 * 1024;
const r1 = (n: number) => Math.round(n * 10) / 10;
const r3 = (n: number) => Math.round(n * 1000) / 1000;
const log = (s: string) => process.stderr.write(`${s}\n`);

/** Things to undo on exit or SIGINT, newest first. */
const cleanups = new Map<string, () => Promise<void> | void>();
async function cleanUp(): Promise<void> {
  for (const [key, fn] of [...cleanups].reverse()) {
    cleanups.delete(key);
    await Promise.resolve()
      .then(fn)
      .catch(() => undefined);
  }
}

/** The node's child process, asked for samples over IPC. */
class ChildNode {
  private readonly proc: ChildProcess;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  readonly ready: Promise<ChildReady>;
  readonly exited: Promise<number | null>;

  constructor(dataDir: string, cpuProfDir?: string) {
    const execArgv = cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`];
    this.proc = fork(CHILD, [dataDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
    this.ready = new Promise((resolve, reject) => {
      this.proc.on('message', (msg: ChildReady | ChildReply) => {
        if ('kind' in msg) return resolve(msg);
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.ok) p?.resolve(msg.value);
        else p?.reject(new Error(msg.error));
      });
      void this.exited.then((code) => {
        const err = new Error(`the node process exited (code ${code})`);
        reject(err);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  request<T>(op: ChildRequest['op']): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (!this.proc.connected) return reject(new Error('the node process is gone'));
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, op } satisfies ChildRequest);
    });
  }

  sample(): Promise<NodeSample> {
    return this.request<NodeSample>('sample');
  }

  suspicions(): Promise<SuspicionLog> {
    return this.request<SuspicionLog>('suspicions');
  }

  /** Asks the node to stop; kills it if it has not exited in 10 s. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    await this.request('stop').catch(() => undefined);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** The next moment, at least `minMs` from now, that is `phase` ms past a whole interval on the wall clock. */
async function untilPhase(intervalMs: number, phase: number, minMs: number): Promise<void> {
  const earliest = Date.now() + minMs;
  const at = Math.ceil((earliest - phase) / intervalMs) * intervalMs + phase;
  await sleep(at - Date.now());
}

/**
 * The kill phase: stops `args.kill` origins that are not link peers, one by one at
 * stratified phases of the interval, then waits until the node has suspected them all
 * (or KILL_TIMEOUT_MS after the last kill) and reads its SUSPECT transitions.
 */
async function killPhase(
  child: ChildNode,
  load: HeartbeatLoad,
  args: Args,
  origins: number,
  intervalMs: number,
): Promise<KillResult> {
  const chosen = chooseVictims(origins, args.links, args.kill, mulberry32((args.seed ^ VICTIM_SEED) >>> 0));
  const ids = chosen.map((o) => load.peerIdOf(o));
  const since = absoluteNow();
  const victims: Victim[] = [];
  // How long detection takes depends on where in the interval a peer dies: just after it
  // sent a heartbeat, the node waits a whole interval longer than just before. Every
  // origin sends on the same wall-clock phase, so stopping all victims at one moment would
  // sample one phase; victim k stops at phase (k + 1/2) / K instead, a stratified sample
  // of crash times (scripts/bench-membership.ts does the same).
  for (const [k, o] of chosen.entries()) {
    const phase = killPhaseMs(k, chosen.length, intervalMs);
    await sleep((phase - (Date.now() % intervalMs) + intervalMs) % intervalMs);
    const { at, phaseMs } = load.kill(o);
    victims.push({ peerId: ids[k] as string, killedAt: at, phaseMs });
  }
  const firstKill = victims[0]?.killedAt ?? since;
  const lastKill = victims[victims.length - 1]?.killedAt ?? since;
  let figures: KillFigures;
  let offset = { estimate: 0, within: Number.POSITIVE_INFINITY };
  for (;;) {
    const asked = absoluteNow();
    const log = await child.suspicions();
    const answered = absoluteNow();
    const within = (answered - asked) / 2;
    if (within < offset.within) offset = { estimate: log.now - (asked + within), within };
    figures = killFigures(victims, log.suspicions, since);
    if (figures.neverSuspected.length === 0 || answered - lastKill > KILL_TIMEOUT_MS) break;
    await sleep(KILL_POLL_MS);
  }
  return {
    ...figures,
    killSpanMs: Math.round(lastKill - firstKill),
    clockOffsetMs: { estimate: r3(offset.estimate), within: r3(offset.within) },
    ok: figures.neverSuspected.length === 0 && figures.falseSuspicions === 0,
  };
}

async function runSize(peers: number, args: Args): Promise<SizeResult> {
  const root = mkdtempSync(join(tmpdir(), 'bizra-bench-membership-node-'));
  cleanups.set(`root-${peers}`, () => rmSync(root, { recursive: true, force: true }));
  // The node's data dir is the temp dir itself, so an orphaned child can remove it all.
  const child = new ChildNode(root, args.cpuProf);
  cleanups.set(`child-${peers}`, () => child.stop());
  const ready = await child.ready;
  log(`${peers} peers: node ${ready.peerId} (pid ${child.pid}) started; making ${peers - 1} keys`);
  const load = await HeartbeatLoad.create({
    origins: peers - 1,
    links: args.links,
    dup: args.dup,
    flushMs: ready.relayDelayMs,
    // A hop: the neighbour's batching delay plus a few ms of transport and processing.
    hopMs: ready.relayDelayMs + 5,
    intervalMs: ready.heartbeatIntervalMs,
    seed: args.seed,
  });
  cleanups.set(`load-${peers}`, () => load.stop());
  await load.connect(ready, ready.relayDegree);
  const idle0 = await child.sample();
  await sleep(args.idle * 1000);
  const before = await child.sample();
  const idleCores = (before.cpuMicros - idle0.cpuMicros) / 1000 / (before.atMs - idle0.atMs);
  load.start();

  const interval = ready.heartbeatIntervalMs;
  const t0 = performance.now();
  let allActiveSeconds: number | null = null;
  while (performance.now() - t0 < args.warmup * 1000) {
    if ((await child.sample()).states.ACTIVE === peers - 1) {
      allActiveSeconds = (performance.now() - t0) / 1000;
      break;
    }
    await sleep(250);
  }
  log(
    `${peers} peers: ${allActiveSeconds === null ? `not all ACTIVE within ${args.warmup} s` : `all ACTIVE after ${allActiveSeconds.toFixed(1)} s`}; measuring for ${args.seconds} s`,
  );
  // The window starts and ends halfway between waves, so it holds exactly `seconds` waves,
  // and after a few more waves than warm-up needed (key caches filled, code warmed up).
  await untilPhase(interval, interval / 2, 2 * interval);
  const s0 = await child.sample();
  const c0 = load.counts();
  load.takeLag();
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const wall0 = performance.now();
  await untilPhase(interval, interval / 2, args.seconds * interval - interval / 4);
  const s1 = await child.sample();
  const c1 = load.counts();
  const wall = (performance.now() - wall0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const { lags, signMs } = load.takeLag();
  const links = load.linksOpen();
  let kill: KillResult | null = null;
  if (args.kill > 0) {
    log(`${peers} peers: window done; stopping ${args.kill} origins`);
    kill = await killPhase(child, load, args, peers - 1, interval);
  }
  cleanups.delete(`load-${peers}`);
  await load.stop();
  cleanups.delete(`child-${peers}`);
  await child.stop();
  cleanups.delete(`root-${peers}`);
  rmSync(root, { recursive: true, force: true });

  const nodeSeconds = (s1.atMs - s0.atMs) / 1000;
  const nodeCores = (s1.cpuMicros - s0.cpuMicros) / 1e6 / nodeSeconds;
  const accepted = s1.heartbeats.accepted - s0.heartbeats.accepted;
  const aboveIdle = Math.max(0, nodeCores - idleCores);
  const rate = (a: number, b: number) => r1((b - a) / nodeSeconds);
  const diff = (k: keyof LoadCounters) => c1[k] - c0[k];
  const sorted = [...lags].sort((a, b) => a - b);
  const suspicionsInWindow = s1.suspicions - s0.suspicions;
  const windowOk = s1.states.ACTIVE === peers - 1 && s1.states.SUSPECT === 0 && suspicionsInWindow === 0;
  return {
    peers,
    links,
    dup: args.dup,
    seconds: r1(nodeSeconds),
    allActiveSeconds: allActiveSeconds === null ? null : r1(allActiveSeconds),
    node: {
      cpuCores: r3(nodeCores),
      idleCpuCores: r3(idleCores),
      cpuPerPeerPercent: Math.round((aboveIdle / (peers - 1)) * 100 * 10_000) / 10_000,
      cpuMicrosPerHeartbeat: r1(accepted > 0 ? (aboveIdle * nodeSeconds * 1e6) / accepted : 0),
      eventLoopUtilization: r3(
        (s1.eluActiveMs - s0.eluActiveMs) / (s1.eluActiveMs - s0.eluActiveMs + s1.eluIdleMs - s0.eluIdleMs),
      ),
      rssMiB: r1(s1.rssBytes / MiB),
      rssBeforeLoadMiB: r1(before.rssBytes / MiB),
      rssPerPeerKiB: r1((s1.rssBytes - before.rssBytes) / 1024 / (peers - 1)),
      heapUsedMiB: r1(s1.heapUsedBytes / MiB),
      heapBeforeLoadMiB: r1(before.heapUsedBytes / MiB),
      heartbeatsAcceptedPerSecond: rate(s0.heartbeats.accepted, s1.heartbeats.accepted),
      duplicatesDroppedPerSecond: rate(s0.heartbeats.duplicate, s1.heartbeats.duplicate),
      staleOrInvalid: s1.heartbeats.stale - s0.heartbeats.stale + (s1.heartbeats.invalid - s0.heartbeats.invalid),
      framesInPerSecond: rate(s0.framesIn, s1.framesIn),
      framesOutPerSecond: rate(s0.framesOut, s1.framesOut),
      links: s1.links,
      endStates: s1.states,
      suspicionsInWindow,
    },
    generator: {
      cpuCores: r3((cpu.user + cpu.system) / 1e6 / wall),
      eventLoopUtilization: r3(elu),
      lagMs: {
        p50: r1(percentile(sorted, 50)),
        p99: r1(percentile(sorted, 99)),
        max: r1(sorted[sorted.length - 1] ?? 0),
      },
      signMsPerWave: r1(signMs.reduce((a, b) => a + b, 0) / Math.max(1, signMs.length)),
      framesSentPerSecond: r1(diff('framesSent') / wall),
      framesUnsent: diff('framesUnsent'),
      sendsBackpressured: diff('sendsBackpressured'),
      framesReceivedPerSecond: r1(diff('framesReceived') / wall),
    },
    kill,
    ok: windowOk && (kill === null || kill.ok),
  };
}

function render(rows: SizeResult[], args: Args): string {
  const f = (x: number, d = 1) => x.toFixed(d);
  const ms = (s: Spread | null) => (s === null ? '-' : `${s.p50} / ${s.p99} / ${s.max}`);
  const killCells = (k: KillResult | null) =>
    k === null
      ? '- | - | -'
      : `${ms(k.killToSuspectMs)} | ${ms(k.lastHeartbeatToSuspectMs)} | ${k.suspected} of ${k.killed} / ${k.falseSuspicions}${k.ok ? '' : ' FAILED'}`;
  return [
    `bench:membership-node  one node in its own process, the other peers played over ${args.links} relay links with ${args.dup} duplicate copies per heartbeat; ${args.seconds} s windows; ${args.kill > 0 ? `then ${args.kill} peers (not link peers) stopped at stratified phases of the interval` : 'no kill phase'}; Node ${process.version}`,
    '| peers | all ACTIVE after | node CPU, cores (idle) | per peer above idle, % of a core | µs CPU per heartbeat above idle | event loop busy | RSS MiB (before load) | RSS KiB per peer | heartbeats accepted/s | duplicates dropped/s | frames in/s / out/s | SUSPECT: in window / at end | generator CPU, cores | generator lag p99 / max ms | kill → SUSPECT p50 / p99 / max ms | last heartbeat → SUSPECT p50 / p99 / max ms | killed SUSPECT / false SUSPECT |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const n = r.node;
      const g = r.generator;
      const windowOk = n.endStates.ACTIVE === r.peers - 1 && n.endStates.SUSPECT === 0 && n.suspicionsInWindow === 0;
      return `| ${r.peers} | ${r.allActiveSeconds === null ? 'not reached' : `${f(r.allActiveSeconds)} s`} | ${f(n.cpuCores, 3)} (${f(n.idleCpuCores, 3)}) | ${f(n.cpuPerPeerPercent, 4)} % | ${f(n.cpuMicrosPerHeartbeat)} | ${f(n.eventLoopUtilization * 100)} % | ${f(n.rssMiB)} (${f(n.rssBeforeLoadMiB)}) | ${f(n.rssPerPeerKiB)} | ${f(n.heartbeatsAcceptedPerSecond)} | ${f(n.duplicatesDroppedPerSecond)} | ${f(n.framesInPerSecond)} / ${f(n.framesOutPerSecond)} | ${n.suspicionsInWindow} / ${n.endStates.SUSPECT}${windowOk ? '' : ` (ACTIVE ${n.endStates.ACTIVE} of ${r.peers - 1}) FAILED`} | ${f(g.cpuCores, 3)} | ${f(g.lagMs.p99)} / ${f(g.lagMs.max)} | ${killCells(r.kill)} |`;
    }),
    '',
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const args = argsOrExitCode('bench:membership-node', parseArgs, argv);
  if (typeof args === 'number') return args;
  const rows: SizeResult[] = [];
  try {
    for (const peers of args.peers) {
      const r = await runSize(peers, args);
      rows.push(r);
      const k = r.kill;
      log(
        `${peers} peers: node ${r.node.cpuCores} cores, ${r.node.rssMiB} MiB; generator ${r.generator.cpuCores} cores, lag p99 ${r.generator.lagMs.p99} ms, signing ${r.generator.signMsPerWave} ms a wave${k === null ? '' : `; kill -> SUSPECT p50 ${k.killToSuspectMs?.p50 ?? '-'} ms, p99 ${k.killToSuspectMs?.p99 ?? '-'} ms, ${k.suspected} of ${k.killed} suspected, ${k.falseSuspicions} false (kills over ${k.killSpanMs} ms; last heartbeats ${k.lastHeartbeatAfterPhaseMs?.min ?? '-'} to ${k.lastHeartbeatAfterPhaseMs?.max ?? '-'} ms into their wave; clocks ${k.clockOffsetMs.estimate} ± ${k.clockOffsetMs.within} ms apart)`}${r.ok ? '' : '; FAILED'}`,
      );
      if (k !== null && k.neverSuspected.length > 0) log(`  never SUSPECT: ${k.neverSuspected.join(', ')}`);
      if (k !== null && k.falseSuspicions > 0) log(`  falsely SUSPECT: ${k.falselySuspected.join(', ')}`);
    }
  } finally {
    await cleanUp();
  }
  process.stdout.write(args.json ? `${JSON.stringify(rows, null, 2)}\n` : render(rows, args));
  return rows.every((r) => r.ok) ? 0 : 1;
}

if (import.meta.main) {
  process.once('SIGINT', () => {
    log('bench:membership-node: interrupted; stopping the node and cleaning up');
    void cleanUp().finally(() => process.exit(130));
  });
  main(process.argv.slice(2)).then(
    (code) => process.stdout.write('', () => process.exit(code)),
    (err: unknown) => {
      process.stderr.write(`bench:membership-node: ${(err as Error)?.stack ?? String(err)}\n`);
      void cleanUp().finally(() => process.exit(1));
    },
  );
}
