/**
 * `npm run bench:testnet -- --peers 100`: starts N nodes in this process with
 * the API off and measures
 *   - how long starting all of them takes,
 *   - RSS after start, per node, and per node above the baseline measured
 *     before the first node (the baseline already holds the loaded modules),
 *   - how long until every node has at least one gossip mesh peer,
 *   - publish-to-all-delivered latency: K messages, one at a time, each from a
 *     node chosen by a seeded PRNG, timed until all N-1 others received it.
 * Exits 1 when the meshes did not form, a message was not delivered to every
 * node, or the whole run went past --timeout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { LOG_LEVELS, type LogLevel } from '../node/config/schema.ts';
import { createLogger } from '../node/log.ts';
import type { BizraNode } from '../node/node.ts';
import { FEDERATION_TOPIC } from '../protocol/topics.ts';
import { argsOrExitCode, intArg, numberArg, parseQuietly } from '../testnet/args.ts';
import { type Cluster, mulberry32, startCluster } from '../testnet/cluster.ts';
import { waitForMeshes } from '../testnet/mesh.ts';
import { startProgress } from '../testnet/progress.ts';

interface BenchArgs {
  peers: number;
  dht: boolean;
  membership: boolean;
  messages: number;
  degree: number;
  seed: number;
  meshTimeout: number;
  deliveryTimeout: number;
  timeout: number;
  logLevel: LogLevel;
  json: boolean;
}

export interface Latency {
  p50: number;
  p99: number;
  max: number;
}

export interface BenchTestnetReport {
  peers: number;
  dht: boolean;
  degree: number;
  seed: number;
  node: string;
  startSeconds: number;
  rss: { baselineMiB: number; afterStartMiB: number; perNodeMiB: number; perNodeAboveBaselineMiB: number };
  mesh: { formed: boolean; seconds: number; withoutMesh: number; min: number; max: number };
  delivery: {
    messages: number;
    delivered: number;
    /** Milliseconds from publish until the last of the N-1 other nodes received it (delivered messages only). */
    latencyMs: Latency | null;
    undelivered: { index: number; publisher: number; received: number }[];
  };
}

function program(): Command {
  return new Command('bench:testnet')
    .description('Start N nodes in one process and measure start time, memory and gossip delivery latency.')
    .addOption(new Option('--peers <n>', 'number of nodes (2 to 1000)').argParser(intArg(2, 1000)).default(100))
    .addOption(
      new Option('--messages <k>', 'messages to publish (1 to 10000)').argParser(intArg(1, 10_000)).default(20),
    )
    .addOption(new Option('--degree <d>', 'earlier nodes each node dials').argParser(intArg(1, 100)).default(6))
    .option('--no-dht', 'run the nodes without kad-dht (p2p.dht = false)')
    .option(
      '--membership',
      'run heartbeats and failure detection on every node (off by default: it grows with N²)',
      false,
    )
    .addOption(
      new Option('--seed <s>', 'seed for topology and publishers').argParser(intArg(0, 0xffff_ffff)).default(1),
    )
    .addOption(
      new Option('--mesh-timeout <seconds>', 'wait at most this long for every node to have a mesh peer')
        .argParser(numberArg(0, 3600, { exclusiveMin: true }))
        .default(60),
    )
    .addOption(
      new Option('--delivery-timeout <seconds>', 'give up on one message after this long')
        .argParser(numberArg(0, 600, { exclusiveMin: true }))
        .default(10),
    )
    .addOption(
      new Option('--timeout <seconds>', 'abort the whole run after this long')
        .argParser(numberArg(0, 86_400, { exclusiveMin: true }))
        .default(600),
    )
    .addOption(new Option('--log-level <level>', 'log level (stderr)').choices(LOG_LEVELS).default('warn'))
    .option('--json', 'print the report as JSON', false);
}

export function parseBenchTestnetArgs(argv: readonly string[]): BenchArgs | { help: string } {
  const p = program();
  const help = parseQuietly(p, argv);
  return help ?? p.opts<BenchArgs>();
}

const MiB = 1024 * 1024;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Nearest-rank percentile of ascending `sorted` (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

async function run(args: BenchArgs, root: string): Promise<{ report: BenchTestnetReport; ok: boolean }> {
  const logger = createLogger({ level: args.logLevel, format: 'json', destination: process.stderr });
  const baseline = process.memoryUsage().rss;
  const progress = startProgress(args.peers);
  const t0 = performance.now();
  const cluster: Cluster = await startCluster(
    {
      peers: args.peers,
      root,
      api: false,
      degree: args.degree,
      seed: args.seed,
      tune: (config) => {
        config.p2p.dht = args.dht;
        config.membership.enabled = args.membership;
      },
      onProgress: (n) => progress.update(n),
    },
    { logger },
  );
  progress.stop();
  try {
    const startSeconds = (performance.now() - t0) / 1000;
    const rss = process.memoryUsage().rss;
    const nodes = cluster.nodes;
    process.stderr.write(`started ${args.peers} nodes in ${startSeconds.toFixed(1)} s; waiting for meshes\n`);

    const tMesh = performance.now();
    const mesh = await waitForMeshes(nodes, { timeoutMs: args.meshTimeout * 1000, atLeast: 1 });
    const meshSeconds = (performance.now() - tMesh) / 1000;
    const meshSizes = nodes.map((n) => n.meshPeers());

    const delivery = await measureDelivery(nodes, args);
    const lat = [...delivery.latencies].sort((a, b) => a - b);
    const report: BenchTestnetReport = {
      peers: args.peers,
      dht: args.dht,
      degree: args.degree,
      seed: args.seed,
      node: process.version,
      startSeconds: round(startSeconds, 2),
      rss: {
        baselineMiB: round(baseline / MiB),
        afterStartMiB: round(rss / MiB),
        perNodeMiB: round(rss / args.peers / MiB, 2),
        perNodeAboveBaselineMiB: round((rss - baseline) / args.peers / MiB, 2),
      },
      mesh: {
        formed: mesh === 'formed',
        seconds: round(meshSeconds, 2),
        withoutMesh: meshSizes.filter((m) => m === 0).length,
        min: Math.min(...meshSizes),
        max: Math.max(...meshSizes),
      },
      delivery: {
        messages: args.messages,
        delivered: lat.length,
        latencyMs:
          lat.length === 0
            ? null
            : {
                p50: round(percentile(lat, 50)),
                p99: round(percentile(lat, 99)),
                max: round(lat[lat.length - 1] as number),
              },
        undelivered: delivery.undelivered,
      },
    };
    return { report, ok: mesh === 'formed' && delivery.undelivered.length === 0 };
  } finally {
    process.stderr.write('stopping nodes\n');
    await cluster.stop();
  }
}

/** Publishes the messages one at a time and times each until every other node has it. */
async function measureDelivery(
  nodes: readonly BizraNode[],
  args: BenchArgs,
): Promise<{ latencies: number[]; undelivered: { index: number; publisher: number; received: number }[] }> {
  // A stream of its own, so the publishers do not depend on how many draws the topology took.
  const rand = mulberry32((args.seed ^ 0x9e3779b9) >>> 0);
  const runTag = `bench/${args.seed}/`;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  let current: { id: string; publisher: number; seen: Set<number>; done: () => void } | undefined;
  nodes.forEach((node, i) => {
    node.host.services.pubsub.addEventListener('message', (evt) => {
      if (evt.detail.topic !== FEDERATION_TOPIC || current === undefined) return;
      const id = decoder.decode(evt.detail.data);
      if (id !== current.id || i === current.publisher) return;
      current.seen.add(i);
      if (current.seen.size === nodes.length - 1) current.done();
    });
  });

  const latencies: number[] = [];
  const undelivered: { index: number; publisher: number; received: number }[] = [];
  for (let k = 0; k < args.messages; k++) {
    const publisher = Math.floor(rand() * nodes.length);
    const id = `${runTag}${k}`;
    const all = Promise.withResolvers<boolean>();
    const seen = new Set<number>();
    current = { id, publisher, seen, done: () => all.resolve(true) };
    const timer = setTimeout(() => all.resolve(false), args.deliveryTimeout * 1000);
    const t = performance.now();
    await (nodes[publisher] as BizraNode).publish(FEDERATION_TOPIC, encoder.encode(id));
    const ok = await all.promise;
    const ms = performance.now() - t;
    clearTimeout(timer);
    if (ok) latencies.push(ms);
    else undelivered.push({ index: k, publisher, received: seen.size });
    current = undefined;
  }
  return { latencies, undelivered };
}

function render(r: BenchTestnetReport): string {
  const l = r.delivery.latencyMs;
  return [
    `bench:testnet  ${r.peers} nodes, kad-dht ${r.dht ? 'on' : 'off'}, degree ${r.degree}, seed ${r.seed}, Node ${r.node}`,
    `  start all          ${r.startSeconds} s (${round((r.startSeconds * 1000) / r.peers)} ms/node)`,
    `  RSS baseline       ${r.rss.baselineMiB} MiB (before the first node)`,
    `  RSS after start    ${r.rss.afterStartMiB} MiB = ${r.rss.perNodeMiB} MiB/node; ` +
      `${r.rss.perNodeAboveBaselineMiB} MiB/node above baseline`,
    `  meshes             ${r.mesh.formed ? 'formed' : 'NOT formed'} in ${r.mesh.seconds} s after start ` +
      `(mesh size min ${r.mesh.min}, max ${r.mesh.max}; ${r.mesh.withoutMesh} node(s) without)`,
    `  delivery to all    ${r.delivery.delivered}/${r.delivery.messages} messages reached all ${r.peers - 1} other nodes`,
    l ? `  latency            p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms` : '  latency            n/a',
    ...r.delivery.undelivered.map(
      (u) => `  UNDELIVERED        message ${u.index} from node ${u.publisher}: ${u.received}/${r.peers - 1} received`,
    ),
    '',
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const args = argsOrExitCode('bench:testnet', parseBenchTestnetArgs, argv);
  if (typeof args === 'number') return args;
  // Our own temp root (not startCluster's), so that it can be removed even on a forced exit.
  const root = mkdtempSync(join(tmpdir(), 'bizra-bench-'));
  const removeRoot = () => rmSync(root, { recursive: true, force: true });
  const bail = (why: string) => {
    process.stderr.write(`bench:testnet: ${why}; exiting without a clean stop\n`);
    removeRoot();
    process.exit(1);
  };
  const overall = setTimeout(() => bail(`gave up after --timeout ${args.timeout} s`), args.timeout * 1000);
  process.once('SIGINT', () => bail('interrupted'));
  process.once('SIGTERM', () => bail('terminated'));
  let result: { report: BenchTestnetReport; ok: boolean };
  try {
    result = await run(args, root);
  } finally {
    clearTimeout(overall);
    removeRoot();
  }
  const { report, ok } = result;
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : render(report));
  return ok ? 0 : 1;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.stdout.write('', () => process.exit(code)),
    (err: unknown) => {
      process.stderr.write(`bench:testnet: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
