/**
 * `npm run bench:pbft-core -- --requests 8192 --rounds 5`: the CPU the PBFT replicas spend per
 * request outside Ed25519, as a multiple of one raw Ed25519 verification measured in the
 * same run, so the figure is stable across hosts and load where bench:pbft's throughput
 * is not (its ratio moves by a third between runs on a shared machine).
 *
 * n pure replicas (consensus/pbft) run in this one thread, each with its own verifier
 * and key-value app; every message goes through the wire codec (encodePbftMessage, then
 * decodePbftMessage at the receiver) as between daemons; clients keep `--clients`
 * requests outstanding at the primary. No network, no disk and no other threads: what is
 * left is the replicas' own work per request (decoding, digests, the protocol, execution,
 * replies) plus the verifications. It prints
 *   - Ed25519 checks per request and replica (1 plus a share of the votes),
 *   - the rest of the CPU per request and replica in µs and in raw verifications,
 *   - the ratio to the verify limit this leaves as a ceiling: 1 / (checks + rest), the
 *     most bench:pbft could reach at n with no network, disk or GC threads.
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { Command, Option } from 'commander';
import { encodeKvOperation, KvApp } from '../consensus/pbft/kv-app.ts';
import type { PbftOutput, PbftTimer } from '../consensus/pbft/output.ts';
import { PbftReplica } from '../consensus/pbft/replica.ts';
import { threadCpuMicros } from '../node/consensus/cpu-slice.ts';
import { Ed25519Signer } from '../protocol/crypto/ed25519.ts';
import { decodePbftMessage, encodePbftMessage } from '../protocol/pbft/codec.ts';
import { signRequest } from '../protocol/pbft/sign.ts';
import type { PbftRequest } from '../protocol/pbft/types.ts';
import { PbftVerifier } from '../protocol/pbft/verifier.ts';
import { argsOrExitCode, intArg, parseQuietly } from '../testnet/args.ts';
import { rawVerifyRate } from './machine-baseline.ts';

interface Args {
  n: number;
  requests: number;
  rounds: number;
  clients: number;
  batchSize: number;
}

function program(): Command {
  return new Command('bench:pbft-core')
    .description("The PBFT replicas' CPU per request outside Ed25519, in raw verifications measured in the same run.")
    .addOption(new Option('--n <n>', 'validators').argParser(intArg(4, 64)).default(4))
    .addOption(new Option('--requests <k>', 'requests a round').argParser(intArg(256, 1_000_000)).default(8192))
    .addOption(new Option('--rounds <r>', 'measured rounds (fresh replicas each)').argParser(intArg(1, 100)).default(5))
    .addOption(new Option('--clients <c>', 'requests outstanding').argParser(intArg(1, 4096)).default(1024))
    .addOption(new Option('--batch-size <b>', 'requests per batch').argParser(intArg(1, 4096)).default(256));
}

const seed = (tag: number, i: number): Uint8Array => {
  const s = new Uint8Array(32).fill(tag);
  new DataView(s.buffer).setUint32(0, i);
  return s;
};

const threadCpuSeconds = (): number => threadCpuMicros() / 1e6;

interface Measured {
  requests: number;
  /** This thread's CPU seconds for the replicas' work, the calibration's excluded. */
  cpuSeconds: number;
  verifications: number;
  /** CPU seconds of one raw Ed25519 verification, sampled all through the run. */
  verifySeconds: number;
}

/**
 * Raw Ed25519 verifications interleaved with the work (CALIBRATION_VERIFIES after every
 * CALIBRATION_EVERY messages), timed in this thread's CPU time: the host's speed drifts
 * within a run, and a rate measured only before and after it moved this figure by half.
 */
const CALIBRATION_EVERY = 64;
const CALIBRATION_VERIFIES = 8;

function calibrator(): { sample: () => void; seconds: () => number; spent: () => number } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const msg = Buffer.alloc(32, 7);
  const sig = sign(null, msg, privateKey);
  let cpu = 0;
  let count = 0;
  return {
    sample: () => {
      const t0 = threadCpuSeconds();
      for (let i = 0; i < CALIBRATION_VERIFIES; i++) verify(null, msg, publicKey, sig);
      cpu += threadCpuSeconds() - t0;
      count += CALIBRATION_VERIFIES;
    },
    seconds: () => cpu / count,
    spent: () => cpu,
  };
}

/** Runs the replicas until `args.requests` requests executed at every replica. */
function run(args: Args, requests: PbftRequest[][], verifiers: PbftVerifier[]): Measured {
  const signers = Array.from({ length: args.n }, (_, i) => Ed25519Signer.fromSeed(seed(0x11, i)));
  const keys = signers.map((s) => s.publicKey);
  const opts = {
    batchSize: args.batchSize,
    batchDelayMs: 2,
    // Nothing is lost here: no view changes, no STATUS rounds.
    viewChangeTimeoutMs: 1e9,
    maxViewChangeTimeoutMs: 1e9,
    statusIntervalMs: 1e9,
  };
  const replicas = signers.map(
    (signer, id) =>
      new PbftReplica({ validators: keys, id }, opts, { signer, app: new KvApp(), verifier: verifiers[id]! }),
  );
  const queue: { to: number; frame: Uint8Array }[] = [];
  const timers = replicas.map(() => new Map<PbftTimer, number>());
  const next = requests.map(() => 0);
  let now = 0;
  let executedEverywhere = 0;
  const executed = replicas.map(() => 0);

  const submit = (c: number): void => {
    const r = requests[c]![next[c]!++];
    if (r !== undefined) queue.push({ to: 0, frame: encodePbftMessage(r) });
  };
  const carry = (from: number, out: PbftOutput): void => {
    for (const s of out.send) {
      const frame = encodePbftMessage(s.message);
      if (s.to === 'all') {
        for (let to = 0; to < args.n; to++) if (to !== from) queue.push({ to, frame });
      } else queue.push({ to: s.to, frame });
    }
    for (const t of out.timers) {
      if (t.atMs === null) timers[from]!.delete(t.timer);
      else timers[from]!.set(t.timer, t.atMs);
    }
    for (const c of out.committed) {
      executed[from]! += c.requests.length;
      if (from !== 0) continue;
      // The primary's replies reach the clients, who send their next requests.
      for (const r of c.requests) submit(clientOf.get(Buffer.from(r.client).toString('hex'))!);
    }
    for (const r of out.replies) void r.message; // a client reads its REPLY: signs the batch's tree
  };
  const clientOf = new Map<string, number>();
  for (const [c, list] of requests.entries()) clientOf.set(Buffer.from(list[0]!.client).toString('hex'), c);

  const calibration = calibrator();
  let delivered = 0;
  const cpu0 = threadCpuSeconds();
  const verified0 = verifiers.reduce((s, v) => s + v.verifications, 0);
  for (const [i, r] of replicas.entries()) carry(i, r.start(now));
  for (let c = 0; c < requests.length; c++) submit(c);
  while (executedEverywhere < args.requests) {
    const m = queue.shift();
    if (++delivered % CALIBRATION_EVERY === 0) calibration.sample();
    if (m !== undefined) {
      const decoded = decodePbftMessage(m.frame);
      if (!decoded.ok) throw new Error(`a frame did not decode: ${decoded.reason}`);
      carry(m.to, replicas[m.to]!.receive(decoded.message, now));
    } else {
      // Nothing in flight: the clock moves to the next timer.
      let at = Number.POSITIVE_INFINITY;
      for (const t of timers) for (const v of t.values()) at = Math.min(at, v);
      if (!Number.isFinite(at)) throw new Error('stalled: nothing to deliver and no timer set');
      now = Math.max(now, at);
      timers.forEach((t, i) => {
        for (const [name, v] of [...t]) {
          if (v > now) continue;
          t.delete(name);
          carry(i, replicas[i]!.onTimer(name, now));
        }
      });
    }
    executedEverywhere = Math.min(...executed);
  }
  return {
    requests: executedEverywhere,
    cpuSeconds: threadCpuSeconds() - cpu0 - calibration.spent(),
    verifications: verifiers.reduce((s, v) => s + v.verifications, 0) - verified0,
    verifySeconds: calibration.seconds(),
  };
}

async function main(argv: readonly string[]): Promise<number> {
  const args = argsOrExitCode(
    'bench:pbft-core',
    (a) => {
      const p = program();
      return parseQuietly(p, a) ?? p.opts<Args>();
    },
    argv,
  );
  if (typeof args === 'number') return args;
  const warmUp = 4;
  // Each round's requests: 1.5 times its share per client (a client whose requests run
  // out just stops), after the warm-up's.
  const perRound = Math.ceil((args.requests * 1.5) / args.clients) + 1;
  const requests = Array.from({ length: args.clients }, (_, c) => {
    const signer = Ed25519Signer.fromSeed(seed(0x5a, c));
    return Array.from({ length: warmUp + args.rounds * perRound }, (_, k) =>
      signRequest(signer, k + 1, encodeKvOperation({ op: 'put', key: `c${c}`, value: String(k) })),
    );
  });
  // A warm-up with other requests (the JIT, the verifiers' key objects, the host's clock
  // ramping up) that does not count: the verifiers keep their keys, as a running
  // validator's do, but have checked none of the measured requests.
  const verifiers = Array.from({ length: args.n }, () => new PbftVerifier());
  rawVerifyRate(0.5);
  run(
    { ...args, requests: Math.min(args.requests, (warmUp - 1) * args.clients) },
    requests.map((l) => l.slice(0, warmUp)),
    verifiers,
  );
  console.log(`n = ${args.n}, ${args.requests} requests a round, ${args.clients} outstanding, batch ${args.batchSize}`);
  console.log(
    '| round | raw verifies/s (CPU time, during) | Ed25519 checks per request and replica | rest µs | rest in raw verifications | ceiling of the ratio |',
  );
  console.log('|---|---|---|---|---|---|');
  const rests: number[] = [];
  const checksPer: number[] = [];
  for (let round = 0; round < args.rounds; round++) {
    const from = warmUp + round * perRound;
    const m = run(
      args,
      requests.map((l) => l.slice(from, from + perRound)),
      verifiers,
    );
    const perReplica = m.requests * args.n;
    const checks = m.verifications / perReplica;
    const restSeconds = m.cpuSeconds / perReplica - checks * m.verifySeconds;
    const rest = restSeconds / m.verifySeconds;
    rests.push(rest);
    checksPer.push(checks);
    console.log(
      `| ${round + 1} | ${Math.round(1 / m.verifySeconds)} | ${checks.toFixed(3)} | ${(restSeconds * 1e6).toFixed(1)} | ${rest.toFixed(3)} | ${(1 / (checks + rest)).toFixed(3)} |`,
    );
  }
  const sorted = [...rests].sort((x, y) => x - y);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const mean = rests.reduce((x, y) => x + y, 0) / rests.length;
  const checks = checksPer.reduce((x, y) => x + y, 0) / checksPer.length;
  const ceiling = (rest: number): string => (1 / (checks + rest)).toFixed(3);
  // Rounds differ by a major GC falling in them or not, and by what else the host runs
  // (which slows this JavaScript more than Ed25519): compare runs by their median.
  console.log(
    `the rest per request and replica, in raw verifications: least ${sorted[0]!.toFixed(3)}, median ${median.toFixed(3)}, ` +
      `mean ${mean.toFixed(3)}; ceiling of the ratio to the verify limit (no network, disk or GC threads): ` +
      `${ceiling(sorted[0]!)} / ${ceiling(median)} / ${ceiling(mean)}`,
  );
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
