/**
 * `npm run bench:verify -- [--seconds 3] [--workers N] [--json]`: PCI envelope
 * verification throughput, every figure from the same run so they compare:
 *
 *   (a) raw node:crypto Ed25519 verify/s on one thread (a cached KeyObject, a 32-byte
 *       message): the baseline, all other figures are ratios to it;
 *   (b) envelopes fully verified per second on one thread (EnvelopeVerifier.verify:
 *       size check, wire split, strict canonical read of the body (field rules and
 *       canonical form in one pass, protocol/pci/fields.ts readCanonicalBody),
 *       BLAKE3 domain digest, Ed25519 verify; record: false so the replay cache stays
 *       out of it);
 *   (c) the same through a VerifyPool of --workers threads (default: one per core),
 *       fed batches from several concurrent callers, against cores x (a);
 *   (d) raw verify on --workers threads at once: what the machine really delivers in
 *       parallel (shared caches, turbo, other load), the ceiling for (c);
 *
 * The machines are shared and their speed drifts by several per cent within a minute,
 * so the four measures are interleaved: --rounds rounds, each running (a), (b), (c) and
 * (d) for seconds / rounds, and each rate is total operations over total time. The
 * ratios then compare measures taken under the same conditions. The spread of the
 * per-round (c) / (a) ratios is printed too. A benchmark, not a test: read the figures
 * with the load average printed next to them. Exits 1 if any envelope failed to verify.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Command, Option } from 'commander';
import { Ed25519Signer } from '../protocol/crypto/ed25519.ts';
import { signEnvelope } from '../protocol/pci/sign.ts';
import { EnvelopeVerifier } from '../protocol/pci/verify.ts';
import { VerifyPool } from '../protocol/pci/verify-pool.ts';
import { intArg, numberArg, parseQuietly, UsageError } from '../testnet/args.ts';

interface BenchVerifyArgs {
  seconds: number;
  rounds: number;
  workers: number;
  envelopes: number;
  keys: number;
  payloadBytes: number;
  batch: number;
  json: boolean;
}

export interface Measure {
  /** Operations per second. */
  rate: number;
  /** rate / (a). */
  vsRaw: number;
  /** rate / (threads x (a)), for the parallel measures. */
  vsCoresRaw?: number;
}

export interface BenchVerifyReport {
  node: string;
  cores: number;
  workers: number;
  seconds: number;
  envelopes: number;
  envelopeBytes: number;
  keys: number;
  rounds: number;
  loadAverage: number[];
  raw: Measure;
  single: Measure;
  pool: Measure;
  rawParallel: Measure;
  /** Pool throughput / (workers x raw): the target is >= 0.85. */
  poolEfficiency: number;
  /** The same ratio per round: min and max. */
  poolEfficiencyRange: [number, number];
  failures: number;
}

const T0 = Date.UTC(2026, 0, 1);
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function program(): Command {
  return new Command('bench:verify')
    .description('PCI envelope verification throughput: raw Ed25519, one thread, and a worker-thread pool.')
    .addOption(
      new Option('--seconds <s>', 'total length of each measure')
        .argParser(numberArg(0, 600, { exclusiveMin: true }))
        .default(5),
    )
    .addOption(
      new Option('--rounds <n>', 'rounds the measures are interleaved in').argParser(intArg(1, 1000)).default(5),
    )
    .addOption(
      new Option('--workers <n>', 'threads for the pool and the parallel raw measure (default: one per core)')
        .argParser(intArg(1, 256))
        .default(availableParallelism()),
    )
    .addOption(
      new Option('--envelopes <n>', 'distinct envelopes cycled through').argParser(intArg(1, 1_000_000)).default(2000),
    )
    .addOption(new Option('--keys <n>', 'distinct signing keys').argParser(intArg(1, 100_000)).default(64))
    .addOption(
      new Option('--payload-bytes <n>', 'payload size of each envelope').argParser(intArg(0, 1_000_000)).default(256),
    )
    .addOption(
      new Option('--batch <n>', 'most envelopes per message to a worker').argParser(intArg(1, 100_000)).default(256),
    )
    .option('--json', 'print the report as JSON', false);
}

export function parseBenchVerifyArgs(argv: readonly string[]): BenchVerifyArgs | { help: string } {
  const p = program();
  return parseQuietly(p, argv) ?? p.opts<BenchVerifyArgs>();
}

function makeEnvelopes(args: BenchVerifyArgs): Uint8Array[] {
  const signers = Array.from({ length: args.keys }, (_, i) => {
    const seed = new Uint8Array(32);
    new DataView(seed.buffer).setUint32(0, i + 1);
    return Ed25519Signer.fromSeed(seed);
  });
  return Array.from({ length: args.envelopes }, (_, i) => {
    const nonce = new Uint8Array(16);
    new DataView(nonce.buffer).setUint32(0, i);
    const data = new Uint8Array(args.payloadBytes).map((_, j) => (i + j) & 0xff);
    return signEnvelope(
      {
        agentType: 'MODEL',
        payload: { contentType: 'application/octet-stream', data },
        timestampMs: T0,
        ttlSeconds: 300,
        ihsanScore: 0.97,
        snrScore: 0.9,
        nonce,
      },
      signers[i % signers.length]!,
    ).bytes;
  });
}

/** Operations and seconds of one timed slice. */
interface Sample {
  ops: number;
  secs: number;
}

const rateOf = (samples: Sample[]) => samples.reduce((a, x) => a + x.ops, 0) / samples.reduce((a, x) => a + x.secs, 0);

/** Runs `step` (which does some operations and says how many) for `seconds`. */
function timeLoop(seconds: number, step: () => number): Sample {
  const start = performance.now();
  const end = start + seconds * 1000;
  let ops = 0;
  while (performance.now() < end) ops += step();
  return { ops, secs: (performance.now() - start) / 1000 };
}

/** A raw-verify fixture: KeyObject, 32-byte message, signature. */
function rawFixture() {
  const signer = Ed25519Signer.fromSeed(new Uint8Array(32).fill(7));
  const message = new Uint8Array(32).fill(1);
  const signature = signer.sign(message);
  const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, signer.publicKey]), format: 'der', type: 'spki' });
  if (!cryptoVerify(null, message, key, signature)) throw new Error('raw fixture does not verify');
  return { publicKey: signer.publicKey, message, signature, key };
}

function rawMeasure(): (seconds: number) => Sample {
  const { message, signature, key } = rawFixture();
  return (seconds) =>
    timeLoop(seconds, () => {
      for (let i = 0; i < 64; i++) cryptoVerify(null, message, key, signature);
      return 64;
    });
}

/** Threads that each run the raw loop when told to, all at once; their samples summed. */
async function rawParallelMeasure(
  threads: number,
): Promise<{ run: (s: number) => Promise<Sample>; close: () => Promise<void> }> {
  const { publicKey, message, signature } = rawFixture();
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const { createPublicKey, verify } = require('node:crypto');
    const { spki, message, signature } = workerData;
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    parentPort.on('message', (seconds) => {
      const start = performance.now();
      const end = start + seconds * 1000;
      let ops = 0;
      while (performance.now() < end) { for (let i = 0; i < 64; i++) verify(null, message, key, signature); ops += 64; }
      parentPort.postMessage({ ops, secs: (performance.now() - start) / 1000 });
    });
    parentPort.postMessage('ready');`;
  const spki = Buffer.concat([SPKI_PREFIX, publicKey]);
  const workers = Array.from(
    { length: threads },
    () => new Worker(code, { eval: true, workerData: { spki, message, signature } }),
  );
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
  return {
    run: async (seconds) => {
      const samples = workers.map((w) => new Promise<Sample>((resolve) => w.once('message', resolve)));
      for (const w of workers) w.postMessage(seconds);
      const all = await Promise.all(samples);
      // Summed rates: total operations over the (shared) wall time.
      return { ops: all.reduce((a, x) => a + x.ops, 0), secs: Math.max(...all.map((x) => x.secs)) };
    },
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

function singleMeasure(envelopes: Uint8Array[], failures: { n: number }): (seconds: number) => Sample {
  const verifier = new EnvelopeVerifier();
  const now = T0 + 1000;
  let i = 0;
  return (seconds) =>
    timeLoop(seconds, () => {
      for (let k = 0; k < 64; k++) {
        if (!verifier.verify(envelopes[i]!, now, { record: false }).ok) failures.n++;
        i = (i + 1) % envelopes.length;
      }
      return 64;
    });
}

/**
 * Several concurrent callers, each verifying 256 envelopes per call, enough of them to
 * keep every worker's two batch slots full: the way a busy node's streams would.
 */
function poolMeasure(
  pool: VerifyPool,
  envelopes: Uint8Array[],
  workers: number,
  failures: { n: number },
): (seconds: number) => Promise<Sample> {
  const now = T0 + 1000;
  const chunk = 256;
  const chunks: Uint8Array[][] = [];
  for (let i = 0; i < envelopes.length; i += chunk) chunks.push(envelopes.slice(i, i + chunk));
  const callers = Math.max(2, workers * 2);
  let next = 0;
  return async (seconds) => {
    const start = performance.now();
    const end = start + seconds * 1000;
    let ops = 0;
    const caller = async () => {
      while (performance.now() < end) {
        const batch = chunks[next++ % chunks.length]!;
        for (const r of await pool.verify(batch, now, { record: false })) if (!r.ok) failures.n++;
        ops += batch.length;
      }
    };
    await Promise.all(Array.from({ length: callers }, caller));
    return { ops, secs: (performance.now() - start) / 1000 };
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ratio = (n: number | undefined) => (n === undefined ? '' : n.toFixed(2));

function render(r: BenchVerifyReport): string {
  const rows: [string, Measure][] = [
    ['(a) raw node:crypto Ed25519 verify, 1 thread', r.raw],
    ['(b) envelopes fully verified, 1 thread', r.single],
    [`(c) envelopes fully verified, VerifyPool of ${r.workers}`, r.pool],
    [`(d) raw verify on ${r.workers} threads at once`, r.rawParallel],
  ];
  const lines = [
    `bench:verify  Node ${r.node}, ${r.cores} cores, ${r.workers} workers, ${r.seconds} s per measure in ${r.rounds} rounds, ` +
      `${r.envelopes} envelopes of ${r.envelopeBytes} B from ${r.keys} keys, load average ${r.loadAverage.map((x) => x.toFixed(2)).join(' ')}`,
    '',
    `${'measure'.padEnd(54)}${'per second'.padStart(12)}${'× (a)'.padStart(9)}${'× workers·(a)'.padStart(16)}`,
    ...rows.map(
      ([name, m]) =>
        `${name.padEnd(54)}${fmt(m.rate).padStart(12)}${ratio(m.vsRaw).padStart(9)}${ratio(m.vsCoresRaw).padStart(16)}`,
    ),
    '',
    `pool efficiency: ${r.poolEfficiency.toFixed(2)} of ${r.workers} × (a) (target ≥ 0.85; per round ` +
      `${r.poolEfficiencyRange.map((x) => x.toFixed(2)).join(' to ')}); ` +
      `${(r.pool.rate / r.rawParallel.rate).toFixed(2)} of what ${r.workers} threads of raw verify reach together (d)`,
  ];
  if (r.failures > 0) lines.push(`FAILED: ${r.failures} envelopes did not verify`);
  return `${lines.join('\n')}\n`;
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: BenchVerifyArgs;
  try {
    const parsed = parseBenchVerifyArgs(argv);
    if ('help' in parsed) {
      process.stdout.write(parsed.help);
      return 0;
    }
    args = parsed;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench:verify: ${err.message}\n`);
    return 2;
  }
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`signing ${args.envelopes} envelopes ...`);
  const envelopes = makeEnvelopes(args);
  const loadAverage = loadavg();
  const failures = { n: 0 };
  const pool = await VerifyPool.create(args.workers, { maxBatch: args.batch });
  const parallel = await rawParallelMeasure(args.workers);
  const samples = { raw: [] as Sample[], single: [] as Sample[], pool: [] as Sample[], parallel: [] as Sample[] };
  try {
    const raw = rawMeasure();
    const single = singleMeasure(envelopes, failures);
    const pooled = poolMeasure(pool, envelopes, args.workers, failures);
    // Warm-up (JIT, key caches, worker start-up), not counted.
    raw(0.2);
    single(0.2);
    await pooled(0.5);
    await parallel.run(0.2);
    failures.n = 0;
    const slice = args.seconds / args.rounds;
    for (let round = 1; round <= args.rounds; round++) {
      log(
        `round ${round}/${args.rounds}: (a) raw, (b) one thread, (c) pool of ${args.workers}, (d) raw on ${args.workers} threads`,
      );
      samples.raw.push(raw(slice));
      samples.single.push(single(slice));
      samples.pool.push(await pooled(slice));
      samples.parallel.push(await parallel.run(slice));
    }
  } finally {
    await pool.close();
    await parallel.close();
  }
  const raw = rateOf(samples.raw);
  const single = rateOf(samples.single);
  const pooled = rateOf(samples.pool);
  const rawParallel = rateOf(samples.parallel);
  const cores = raw * args.workers;
  const perRound = samples.pool.map(
    (p, i) => p.ops / p.secs / ((samples.raw[i]!.ops / samples.raw[i]!.secs) * args.workers),
  );
  const report: BenchVerifyReport = {
    node: process.version,
    cores: availableParallelism(),
    workers: args.workers,
    seconds: args.seconds,
    rounds: args.rounds,
    envelopes: args.envelopes,
    envelopeBytes: envelopes[0]!.length,
    keys: args.keys,
    loadAverage,
    raw: { rate: raw, vsRaw: 1 },
    single: { rate: single, vsRaw: single / raw },
    pool: { rate: pooled, vsRaw: pooled / raw, vsCoresRaw: pooled / cores },
    rawParallel: { rate: rawParallel, vsRaw: rawParallel / raw, vsCoresRaw: rawParallel / cores },
    poolEfficiency: pooled / cores,
    poolEfficiencyRange: [Math.min(...perRound), Math.max(...perRound)],
    failures: failures.n,
  };
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : render(report));
  return report.failures === 0 ? 0 : 1;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`bench:verify: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
