/**
 * `npm run bench:sim -- [--runs 30] [--reforms 1000] [--workers 2] [--json]`: the policy
 * simulation engine's speed and memory, every figure from one run:
 *
 *   - model build: data, population generation and calibration, baseline, Leontief inverse;
 *   - one reform's full tax-benefit evaluation over the 100k cohorts (the target is
 *     <= 50 ms on one core), and one full simulate() (tax-benefit, macro, climate, fiscal,
 *     gates, rounding): median and p90 of --runs runs;
 *   - --reforms different reforms back to back through simulate() plus the canonical digest,
 *     in reforms per second, on one core (this thread) and on --workers worker threads (each
 *     builds its own model, then they share the reforms; timed from a common start);
 *   - one policy gate evaluation, in microseconds;
 *   - memory: bytes of the population's typed arrays and of the baseline table, and the
 *     RSS and heap growth across the model build.
 *
 * A benchmark, not a test: the machines are shared, so read figures with the load average
 * printed next to them.
 */
import { availableParallelism, loadavg } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Command, Option } from 'commander';
import { evaluateGate } from '../sim/gates/engine.ts';
import {
  createModel,
  populationBytes as populationBytesOf,
  type Reform,
  reformValues,
  resultDigest,
  type SimModel,
  simulate,
  taxBenefitRules,
} from '../sim/index.ts';
import { mulberry32 } from '../sim/prng.ts';
import { compareWithBaseline } from '../sim/taxben/engine.ts';
import { argsOrExitCode, intArg, parseQuietly } from '../testnet/args.ts';

interface BenchSimArgs {
  runs: number;
  reforms: number;
  workers: number;
  json: boolean;
}

/** Deterministic, all different: each reform moves a few levers by a seeded amount. */
export function benchReforms(count: number, seed = 1): Reform[] {
  const rng = mulberry32(seed);
  const pick = (lo: number, hi: number, decimals: number) => {
    const scale = 10 ** decimals;
    return Math.round((lo + (hi - lo) * rng.next()) * scale) / scale;
  };
  return Array.from({ length: count }, (_, i) => ({
    name: `bench-${i}`,
    year: 2025,
    parameters: {
      'income_tax.basic_rate': pick(0.18, 0.23, 4),
      'income_tax.higher_rate': pick(0.38, 0.45, 4),
      'income_tax.personal_allowance': pick(11_000, 15_000, 0),
      'nics.employee.main_rate': pick(0.06, 0.1, 4),
      'vat.standard_rate': pick(0.18, 0.22, 4),
      'uc.taper_rate': pick(0.45, 0.6, 4),
      'carbon.price_gbp_per_tco2e': pick(0, 150, 0),
      'spending.health_and_social_care.rdel_pct': pick(-2, 4, 2),
      'spending.education.rdel_pct': pick(-2, 4, 2),
    },
  }));
}

/** Runs reforms [from, to) through simulate() and the digest; returns a checksum so nothing is optimised away. */
function runReforms(model: SimModel, reforms: readonly Reform[]): number {
  let check = 0;
  for (const r of reforms) check += resultDigest(simulate(r, { model })).charCodeAt(0);
  return check;
}

if (!isMainThread) {
  const { from, to, reformCount } = workerData as { from: number; to: number; reformCount: number };
  const model = createModel();
  const reforms = benchReforms(reformCount).slice(from, to);
  runReforms(model, reforms.slice(0, 20)); // warm up the JIT, as the main thread does
  parentPort!.postMessage({ ready: true });
  parentPort!.once('message', () => {
    const t0 = performance.now();
    runReforms(model, reforms);
    parentPort!.postMessage({ ms: performance.now() - t0 });
  });
} else {
  await main(process.argv.slice(2));
}

function program(): Command {
  return new Command('bench:sim')
    .description('Policy simulation engine: per-reform latency, reforms per second on 1 and N cores, memory.')
    .addOption(new Option('--runs <n>', 'runs for the latency medians').argParser(intArg(3, 10_000)).default(30))
    .addOption(
      new Option('--reforms <n>', 'reforms in the throughput runs').argParser(intArg(10, 100_000)).default(1000),
    )
    .addOption(new Option('--workers <n>', 'worker threads for the parallel run').argParser(intArg(1, 64)).default(2))
    .option('--json', 'print the report as JSON', false);
}

export function parseBenchSimArgs(argv: readonly string[]): BenchSimArgs | { help: string } {
  const p = program();
  return parseQuietly(p, argv) ?? p.opts<BenchSimArgs>();
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

function time(runs: number, f: () => unknown): { median: number; p90: number } {
  const ms: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    f();
    ms.push(performance.now() - t0);
  }
  return { median: quantile(ms, 0.5), p90: quantile(ms, 0.9) };
}

async function parallel(args: BenchSimArgs): Promise<number> {
  const per = Math.ceil(args.reforms / args.workers);
  const workers = Array.from(
    { length: args.workers },
    (_, w) =>
      new Worker(new URL(import.meta.url), {
        workerData: { from: w * per, to: Math.min(args.reforms, (w + 1) * per), reformCount: args.reforms },
      }),
  );
  const next = (w: Worker) =>
    new Promise<{ ready?: boolean; ms?: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  await Promise.all(workers.map(next));
  const t0 = performance.now();
  const done = workers.map(next);
  for (const w of workers) w.postMessage('go');
  await Promise.all(done);
  const ms = performance.now() - t0;
  await Promise.all(workers.map((w) => w.terminate()));
  return ms;
}

async function main(argv: string[]): Promise<void> {
  const args = argsOrExitCode('bench:sim', parseBenchSimArgs, argv);
  if (typeof args === 'number') {
    process.exitCode = args;
    return;
  }

  globalThis.gc?.();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const tb = performance.now();
  const model = createModel();
  const buildMs = performance.now() - tb;
  globalThis.gc?.();
  const rssDelta = process.memoryUsage().rss - rss0;
  const heapDelta = process.memoryUsage().heapUsed - heap0;
  const populationBytes = populationBytesOf(model.population);
  let baselineBytes = 0;
  for (const v of Object.values(model.baseline)) baselineBytes += (v as Float64Array).byteLength;

  const reforms = benchReforms(args.reforms);
  const one = reforms[0]!;
  runReforms(model, reforms.slice(0, 20)); // warm up the JIT
  const taxBenefit = time(args.runs, () =>
    compareWithBaseline(model.population, model.baseline, taxBenefitRules(reformValues(model.parameters, one))),
  );
  const full = time(args.runs, () => simulate(one, { model }));

  const t1 = performance.now();
  runReforms(model, reforms);
  const singleMs = performance.now() - t1;
  const parallelMs = await parallel(args);

  const sample = simulate(one, { model });
  const gateUs = model.gates.map((g) => {
    const n = 20_000;
    const t = performance.now();
    for (let k = 0; k < n; k++) evaluateGate(g, sample);
    return { name: g.name, us: ((performance.now() - t) * 1000) / n };
  });

  const report = {
    node: process.versions.node,
    cores: availableParallelism(),
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    cohorts: model.population.size,
    modelBuildMs: round(buildMs),
    taxBenefitMs: { median: round(taxBenefit.median), p90: round(taxBenefit.p90) },
    simulateMs: { median: round(full.median), p90: round(full.p90) },
    reforms: args.reforms,
    reformsPerSecondOneCore: round((args.reforms / singleMs) * 1000),
    workers: args.workers,
    reformsPerSecondWorkers: round((args.reforms / parallelMs) * 1000),
    gateMicroseconds: gateUs.map((g) => ({ name: g.name, us: round(g.us) })),
    memory: { populationBytes, baselineBytes, rssDeltaBytes: rssDelta, heapDeltaBytes: heapDelta },
  };
  if (args.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  const rows: Array<[string, string]> = [
    ['model build (generate, calibrate, baseline, (I-A)^-1)', `${report.modelBuildMs} ms`],
    [
      `tax-benefit evaluation, 1 reform x ${report.cohorts} cohorts`,
      `${report.taxBenefitMs.median} ms (p90 ${report.taxBenefitMs.p90})`,
    ],
    ['full simulate(), 1 reform', `${report.simulateMs.median} ms (p90 ${report.simulateMs.p90})`],
    [`${report.reforms} reforms, simulate + digest, 1 core`, `${report.reformsPerSecondOneCore} reforms/s`],
    [`${report.reforms} reforms, ${report.workers} worker threads`, `${report.reformsPerSecondWorkers} reforms/s`],
    ...gateUs.map((g): [string, string] => [`gate ${g.name}`, `${round(g.us)} µs`]),
    ['population typed arrays', mb(populationBytes)],
    ['baseline table (per-cohort results)', mb(baselineBytes)],
    ['RSS / heap growth across model build', `${mb(rssDelta)} / ${mb(heapDelta)}`],
  ];
  process.stdout.write(
    `bench:sim  node ${report.node}, ${report.cores} cores, load ${report.loadAverage.join(' ')}\n` +
      rows.map(([k, v]) => `  ${k.padEnd(58)}${v.padStart(26)}`).join('\n') +
      '\n',
  );
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
