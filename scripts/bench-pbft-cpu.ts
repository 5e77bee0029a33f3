/**
 * `npm run bench:pbft-cpu -- --n 4 --seconds 8 [any bench:pbft option]`: one bench:pbft run
 * under Linux perf, then where the CPU went during its saturating phase: the shares of
 * Ed25519 verification, V8's helper threads (GC), the kernel, libc and libuv's pool
 * (scripts/perf-shares.ts). The Ed25519 share is the measure to compare builds by: the
 * ratio bench:pbft prints moves with the host's speed from run to run, the share much less
 * (docs/pbft.md, "Where the CPU goes"). Needs `perf` (Debian: `apt-get install linux-perf`)
 * and one n.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parsePerfLine, SharesCounter } from './perf-shares.ts';

/** The V8 flags `npm run bench:pbft` and the daemon run with (package.json). */
const V8_FLAGS = ['--min-semi-space-size=32', '--max-semi-space-size=32'];
const SAMPLES_PER_SECOND = 499;

function fail(message: string): never {
  process.stderr.write(`bench:pbft-cpu: ${message}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
const nAt = args.findIndex((a) => a === '--n' || a.startsWith('--n='));
const nValue = nAt < 0 ? undefined : args[nAt]!.startsWith('--n=') ? args[nAt]!.slice(4) : args[nAt + 1];
if (nValue === undefined || !/^\d+$/.test(nValue)) fail('give one validator count: --n 4 (the shares are of one run)');
if (spawnSync('perf', ['--version']).error !== undefined) {
  fail('perf not found: install it (Debian: apt-get install linux-perf)');
}

const dir = mkdtempSync(join(tmpdir(), 'bizra-perf-'));
const data = join(dir, 'perf.data');
try {
  const bench = fileURLToPath(new URL('./bench-pbft.ts', import.meta.url));
  const record = spawnSync(
    'perf',
    ['record', '-q', '-F', String(SAMPLES_PER_SECOND), '-o', data, '--', process.execPath, ...V8_FLAGS, bench, ...args],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (record.status !== 0) fail(`perf record (or the benchmark) exited with ${record.status ?? record.signal}`);

  const counter = new SharesCounter();
  const script = spawn('perf', ['script', '-i', data, '-F', 'comm,tid,time,ip,sym,dso'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  for await (const line of createInterface({ input: script.stdout })) {
    const s = parsePerfLine(line);
    if (s !== null) counter.add(s);
  }
  const shares = counter.shares();
  if (shares === null) fail('no saturating phase found in the samples (three or more busy replica threads)');
  const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
  const s = shares.share;
  process.stdout.write(
    `saturating phase: ${shares.toS - shares.fromS + 1} s, ${shares.samples} samples at ${SAMPLES_PER_SECOND} Hz per core\n` +
      `| Ed25519 | V8 helper threads | kernel | libc | libuv pool | other |\n|---|---|---|---|---|---|\n` +
      `| ${pct(s.ed25519)} | ${pct(s.v8Helpers)} | ${pct(s.kernel)} | ${pct(s.libc)} | ${pct(s.libuvPool)} | ${pct(s.other)} |\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
