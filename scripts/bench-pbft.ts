/**
 * `npm run bench:pbft -- --n 4,7,16 --seconds 5 --clients 128`: PBFT over real libp2p on
 * loopback, every validator a full BizraNode (LevelDB WAL with fsync, /bizra/pbft/1.0.0
 * streams, timers) in this one process, each with its own signature verifier (no shared
 * cache: every replica pays for every check, as on separate machines).
 *
 * For each n it measures
 *   - low load: one client, one request at a time: p50/p99 commit latency;
 *   - saturating load: `--clients` clients, each with one request outstanding, for
 *     `--seconds`: committed client-signed requests per second and p50/p99 latency;
 * and reports throughput against this machine's limit, measured in the same run:
 * cores x single-core raw Ed25519 verify rate / n (every replica verifies every request).
 *
 * Clients are in-process and send to the primary (as PBFT clients do) through the
 * node's submit(), the path the HTTP API takes minus HTTP; latency runs from submit to
 * the primary's own execution with its WAL record fsynced. Requests are signed before
 * the clock starts (a client signs on its own machine).
 */
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { encodeKvOperation } from '../consensus/pbft/kv-app.ts';
import { createLogger } from '../node/log.ts';
import { Ed25519Signer } from '../protocol/crypto/ed25519.ts';
import { signRequest } from '../protocol/pbft/sign.ts';
import type { PbftRequest } from '../protocol/pbft/types.ts';
import { argsOrExitCode, intArg, parseQuietly } from '../testnet/args.ts';
import { startCluster } from '../testnet/cluster.ts';

interface Args {
  n: string;
  seconds: number;
  clients: number;
  low: number;
  batchSize: number;
  json: boolean;
}

function program(): Command {
  return new Command('bench:pbft')
    .description('PBFT throughput and commit latency over libp2p on loopback, against the Ed25519 verify limit.')
    .option('--n <list>', 'validator counts, comma-separated', '4,7,16')
    .addOption(new Option('--seconds <s>', 'saturating-load duration').argParser(intArg(1, 600)).default(5))
    .addOption(
      new Option('--clients <c>', 'concurrent clients at saturating load').argParser(intArg(1, 4096)).default(256),
    )
    .addOption(
      new Option('--low <k>', 'requests at low load (one at a time)').argParser(intArg(10, 100_000)).default(200),
    )
    .addOption(
      new Option('--batch-size <b>', 'requests per batch (validator-set param)').argParser(intArg(1, 4096)).default(64),
    )
    .option('--json', 'print the report as JSON', false);
}

const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/** Raw single-core Ed25519 verifications per second (node:crypto, a prepared key object). */
function verifyRate(): number {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const key = createPublicKey({ key: publicKey.export({ format: 'der', type: 'spki' }), format: 'der', type: 'spki' });
  const msg = Buffer.alloc(32, 7);
  const sig = sign(null, msg, privateKey);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1000) {
    for (let i = 0; i < 100; i++) verify(null, msg, key, sig);
    n += 100;
  }
  return n / ((performance.now() - t0) / 1000);
}

interface Row {
  n: number;
  limit: number;
  throughput: number;
  ratio: number;
  lowP50: number;
  lowP99: number;
  satP50: number;
  satP99: number;
  committed: number;
  cpuCores: number;
  walP50: number;
  batches: number;
}

async function runOne(n: number, args: Args, limitPerN: number): Promise<Row> {
  const logger = createLogger({ level: 'error', format: 'json', destination: process.stderr });
  const cluster = await startCluster(
    {
      peers: n,
      api: false,
      degree: n,
      pbft: { validators: n, sharedVerifier: false, params: { batchSize: args.batchSize } },
      tune: (config) => {
        config.p2p.dht = false;
        config.membership.enabled = false;
        config.consensus.requestTimeoutMs = 60_000;
      },
    },
    { logger },
  );
  try {
    const nodes = cluster.nodes;
    const deadline = performance.now() + 20_000;
    while (nodes.some((x) => x.consensus!.streams() < n - 1)) {
      if (performance.now() > deadline) throw new Error('streams did not open');
      await new Promise((r) => setTimeout(r, 50));
    }
    const primary = nodes[0]!.consensus!;
    // Low load: one client, one request at a time.
    const lowClient = Ed25519Signer.fromSeed(new Uint8Array(32).fill(1));
    const low: number[] = [];
    for (let i = 1; i <= args.low; i++) {
      const r = signRequest(lowClient, i, encodeKvOperation({ op: 'put', key: `low${i}`, value: 'x' }));
      const t = performance.now();
      const a = await primary.submit(r);
      if (!a.ok) throw new Error(`low-load request failed: ${a.code} ${a.message}`);
      if (i > 10) low.push(performance.now() - t);
    }
    // Saturating load: pre-signed requests, `clients` outstanding at once.
    const perClient = Math.ceil((limitPerN * 1.5 * args.seconds) / args.clients) + 50;
    process.stderr.write(`n=${n}: signing ${perClient * args.clients} requests\n`);
    const pools: PbftRequest[][] = [];
    for (let c = 0; c < args.clients; c++) {
      const signer = Ed25519Signer.fromSeed(Uint8Array.from({ length: 32 }, (_, k) => (c * 13 + k + 5) & 0xff));
      const pool: PbftRequest[] = [];
      for (let i = 1; i <= perClient; i++) {
        pool.push(signRequest(signer, i, encodeKvOperation({ op: 'put', key: `c${c}`, value: String(i) })));
      }
      pools.push(pool);
    }
    const lat: number[] = [];
    let committed = 0;
    let measuring = false;
    let stop = false;
    const walBefore = await walStats(nodes[0]!);
    const client = async (c: number) => {
      for (const r of pools[c]!) {
        if (stop) return;
        const t = performance.now();
        const a = await primary.submit(r);
        if (!a.ok) throw new Error(`request failed: ${a.code} ${a.message}`);
        if (measuring) {
          committed++;
          lat.push(performance.now() - t);
        }
      }
    };
    const running = Promise.all(pools.map((_, c) => client(c)));
    await new Promise((r) => setTimeout(r, 1000)); // warm-up
    measuring = true;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, args.seconds * 1000));
    measuring = false;
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    stop = true;
    await running;
    const walAfter = await walStats(nodes[0]!);
    const throughput = committed / elapsed;
    return {
      n,
      limit: limitPerN,
      throughput,
      ratio: throughput / limitPerN,
      lowP50: pct(low, 50),
      lowP99: pct(low, 99),
      satP50: pct(lat, 50),
      satP99: pct(lat, 99),
      committed,
      cpuCores: (cpu.user + cpu.system) / 1e6 / elapsed,
      walP50:
        walAfter.count > walBefore.count ? (walAfter.sum - walBefore.sum) / (walAfter.count - walBefore.count) : 0,
      batches: nodes[0]!.consensus!.status()!.lastExecuted,
    };
  } finally {
    await cluster.stop();
  }
}

async function walStats(node: import('../node/node.ts').BizraNode): Promise<{ sum: number; count: number }> {
  const m = (await node.metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'bizra_pbft_wal_write_seconds');
  const values = (m?.values ?? []) as { metricName?: string; value: number }[];
  return {
    sum: values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0,
    count: values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0,
  };
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = argsOrExitCode(
    'bench:pbft',
    (a) => {
      const p = program();
      return parseQuietly(p, a) ?? p.opts<Args>();
    },
    argv,
  );
  if (typeof parsed === 'number') return parsed;
  const args = parsed;
  const ns = args.n.split(',').map((x) => Number(x.trim()));
  if (ns.some((x) => !Number.isInteger(x) || x < 1 || x > 64)) {
    process.stderr.write('bench:pbft: --n takes validator counts from 1 to 64, comma-separated\n');
    return 2;
  }
  const cores = availableParallelism();
  const rate = verifyRate();
  process.stderr.write(`Ed25519 verify: ${rate.toFixed(0)}/s on one core; ${cores} cores\n`);
  const rows: Row[] = [];
  for (const n of ns) rows.push(await runOne(n, args, (cores * rate) / n));
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ cores, verifyPerSecond: rate, rows }, null, 2)}\n`);
    return 0;
  }
  const f = (x: number, d = 1) => x.toFixed(d);
  process.stdout.write(
    [
      `machine limit = ${cores} cores x ${f(rate, 0)} verifies/s / n; clients at saturation: ${args.clients}; batch size ${args.batchSize}`,
      '| n | limit req/s | committed req/s | ratio | low-load p50 / p99 ms | saturated p50 / p99 ms | CPU cores used | WAL write mean ms |',
      '|---|---|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.n} | ${f(r.limit, 0)} | ${f(r.throughput, 0)} | ${f(r.ratio, 2)} | ${f(r.lowP50)} / ${f(r.lowP99)} | ${f(r.satP50)} / ${f(r.satP99)} | ${f(r.cpuCores, 2)} | ${f(r.walP50 * 1000, 2)} |`,
      ),
      '',
    ].join('\n'),
  );
  return 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.stdout.write('', () => process.exit(code)),
    (err: unknown) => {
      process.stderr.write(`bench:pbft: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
