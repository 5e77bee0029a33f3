/**
 * `npm run bench:startup -- --runs 5`: how long `bizra start` takes, as an
 * operator sees it. Each run makes a fresh data dir (which `start`
 * initialises), spawns the CLI, times spawn -> first 200 from GET /health
 * (polled every 10 ms), then sends SIGTERM and times until the process exits.
 * Exits 1 when a run failed (never healthy, crashed, or a non-zero exit on SIGTERM).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { argsOrExitCode, intArg, numberArg, parseQuietly } from '../testnet/args.ts';

interface StartupArgs {
  runs: number;
  timeout: number;
  bin: string;
  json: boolean;
}

export interface RunResult {
  run: number;
  ok: boolean;
  /** Spawn until /health first answered 200. */
  healthyMs: number | null;
  /** SIGTERM until the process exited. */
  shutdownMs: number | null;
  exitCode: number | null;
  signal: string | null;
  error?: string;
}

export interface Summary {
  min: number;
  median: number;
  max: number;
}

export interface BenchStartupReport {
  node: string;
  runs: RunResult[];
  healthyMs: Summary | null;
  shutdownMs: Summary | null;
}

const DEFAULT_BIN = fileURLToPath(new URL('../node/bin/bizra.js', import.meta.url));
const POLL_MS = 10;
const round1 = (n: number) => Math.round(n * 10) / 10;

function program(): Command {
  return new Command('bench:startup')
    .description('Time `bizra start` from spawn to a healthy /health, and SIGTERM to exit, over several runs.')
    .addOption(new Option('--runs <r>', 'number of runs (1 to 100)').argParser(intArg(1, 100)).default(5))
    .addOption(
      new Option('--timeout <seconds>', 'give up on one start or one shutdown after this long')
        .argParser(numberArg(0, 600, { exclusiveMin: true }))
        .default(30),
    )
    .option('--bin <path>', 'the bizra CLI to run', DEFAULT_BIN)
    .option('--json', 'print the report as JSON', false);
}

export function parseBenchStartupArgs(argv: readonly string[]): StartupArgs | { help: string } {
  const p = program();
  return parseQuietly(p, argv) ?? p.opts<StartupArgs>();
}

/** A port that was free a moment ago: bind port 0 on loopback, read it, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port from the OS'))));
    });
  });
}

/** min / median / max (the median of an even count is the mean of the middle two). */
export function summarize(values: readonly number[]): Summary | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { min: round1(s[0] as number), median: round1(median), max: round1(s[s.length - 1] as number) };
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One GET with its own connection (no keep-alive pool), so the probe leaves no
 * idle socket behind that the server would have to close at shutdown.
 */
function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/health', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode === 200));
      res.once('error', () => resolve(false));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => resolve(false)); // not listening yet
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

async function oneRun(run: number, args: StartupArgs): Promise<RunResult> {
  const tmp = mkdtempSync(join(tmpdir(), 'bizra-bench-startup-'));
  // A path that does not exist yet: the fresh data dir `start` must initialise.
  const dataDir = join(tmp, 'data');
  const port = await freePort();
  const result: RunResult = { run, ok: false, healthyMs: null, shutdownMs: null, exitCode: null, signal: null };
  let output = '';
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      args.bin,
      'start',
      '--data-dir',
      dataDir,
      '--api-port',
      String(port),
      '--p2p-listen',
      '/ip4/127.0.0.1/tcp/0',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Drain both pipes (a full pipe would stall the child) and keep the tail for error reports.
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  const exit = exited(child);

  try {
    const deadline = t0 + args.timeout * 1000;
    while (result.healthyMs === null) {
      if (spawnError) throw new Error(`could not spawn: ${spawnError.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`exited before it was healthy (code ${child.exitCode}, signal ${child.signalCode})`);
      }
      if (performance.now() > deadline) throw new Error(`not healthy within ${args.timeout} s`);
      if (await healthy(port)) result.healthyMs = round1(performance.now() - t0);
      else await delay(POLL_MS);
    }
    const t1 = performance.now();
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, args.timeout * 1000, undefined);
    });
    const done = await Promise.race([exit, timeout]);
    clearTimeout(timer);
    if (done === undefined) throw new Error(`did not exit within ${args.timeout} s of SIGTERM`);
    result.shutdownMs = round1(performance.now() - t1);
    result.exitCode = done.code;
    result.signal = done.signal;
    if (done.code !== 0) throw new Error(`exited with code ${done.code} (signal ${done.signal}) after SIGTERM`);
    result.ok = true;
  } catch (err) {
    result.error = `${(err as Error).message}${output.trim() ? `\n--- last output ---\n${output.trim()}` : ''}`;
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exit;
    }
    rmSync(tmp, { recursive: true, force: true });
  }
  return result;
}

function render(r: BenchStartupReport): string {
  const fmt = (s: Summary | null) => (s ? `min ${s.min} ms, median ${s.median} ms, max ${s.max} ms` : 'n/a');
  const ok = r.runs.filter((x) => x.ok).length;
  const lines = [
    `bench:startup  ${r.runs.length} run(s), ${ok} ok, Node ${r.node}`,
    `  spawn -> /health 200   ${fmt(r.healthyMs)}`,
    `  SIGTERM -> exit        ${fmt(r.shutdownMs)}`,
    ...r.runs.map(
      (x) =>
        `  run ${x.run}: ${x.healthyMs === null ? '-' : x.healthyMs.toFixed(1)} ms up, ` +
        `${x.shutdownMs === null ? '-' : x.shutdownMs.toFixed(1)} ms down${x.ok ? '' : `  FAILED: ${x.error}`}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

async function main(argv: readonly string[]): Promise<number> {
  const args = argsOrExitCode('bench:startup', parseBenchStartupArgs, argv);
  if (typeof args === 'number') return args;
  const runs: RunResult[] = [];
  for (let i = 1; i <= args.runs; i++) {
    const r = await oneRun(i, args);
    runs.push(r);
    process.stderr.write(`run ${i}/${args.runs}: ${r.ok ? 'ok' : 'FAILED'}\n`);
  }
  const ok = runs.filter((r) => r.ok);
  const report: BenchStartupReport = {
    node: process.version,
    runs,
    healthyMs: summarize(ok.map((r) => r.healthyMs as number)),
    shutdownMs: summarize(ok.map((r) => r.shutdownMs as number)),
  };
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : render(report));
  return ok.length === runs.length ? 0 : 1;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`bench:startup: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
