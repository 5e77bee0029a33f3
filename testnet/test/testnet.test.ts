import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTestnetArgs, UsageError } from '../args.ts';
import type { TestnetReport } from '../report.ts';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

function runTestnet(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? Number((err as { code?: number }).code ?? 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('testnet flags', () => {
  it('has defaults', () => {
    const parsed = parseTestnetArgs([]);
    expect(parsed.kind).toBe('run');
    if (parsed.kind === 'run')
      expect(parsed.args).toMatchObject({ peers: 4, degree: 6, api: true, duration: undefined });
  });

  it('reads every flag', () => {
    const parsed = parseTestnetArgs([
      '--peers',
      '100',
      '--api-base-port',
      '19100',
      '--seed',
      '7',
      '--duration',
      '2.5',
      '--json',
      '--workers',
      '2',
    ]);
    if (parsed.kind !== 'run') throw new Error('expected run');
    expect(parsed.args).toMatchObject({
      peers: 100,
      apiBasePort: 19100,
      seed: 7,
      duration: 2.5,
      json: true,
      workers: 2,
    });
  });

  const bad: Array<[string[], RegExp]> = [
    [['--peers', '0'], /--peers.*'0' is invalid.*integer from 1 to 1000/],
    [['--peers', 'many'], /--peers.*integer from 1 to 1000/],
    [['--api-base-port', '65530', '--peers', '10'], /ports up to 65539/],
    [['--api-base-port', '19100', '--no-api'], /makes no sense with --no-api/],
    [['--bogus'], /unknown option '--bogus'/],
    [['--duration', '0'], /--duration.*greater than 0/],
    [['--workers', '3', '--peers', '2'], /--workers 3 is more than --peers 2/],
    [['--workers', '2', '--pbft'], /drop --workers or --pbft/],
  ];
  for (const [argv, message] of bad) {
    it(`refuses ${argv.join(' ')}`, () => {
      expect(() => parseTestnetArgs(argv)).toThrow(UsageError);
      expect(() => parseTestnetArgs(argv)).toThrow(message);
    });
  }

  it('answers --help with text, not an exit', () => {
    const parsed = parseTestnetArgs(['--help']);
    expect(parsed.kind).toBe('help');
    if (parsed.kind === 'help') expect(parsed.text).toContain('--peers <n>');
  });
});

describe('npm run testnet', () => {
  it('starts, reports every node as JSON, stops by itself and keeps --root', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bizra-testnet-test-'));
    try {
      const args = ['--peers', '5', '--duration', '0.5', '--json', '--root', root, '--settle', '10'];
      const res = await runTestnet(args);
      expect(res.code, res.stderr).toBe(0);
      const report = JSON.parse(res.stdout) as TestnetReport;
      expect(report.nodes).toHaveLength(5);
      expect(new Set(report.nodes.map((n) => n.peerId)).size).toBe(5);
      for (const n of report.nodes) {
        expect(n.connections).toBeGreaterThanOrEqual(1);
        expect(n.apiPort).toBeGreaterThan(0);
      }
      expect(report.summary.withoutMesh).toBe(0);
      expect(res.stderr).toContain('stopped');
      // A second run on the same root brings back the same peer ids.
      const again = JSON.parse((await runTestnet(args)).stdout) as TestnetReport;
      expect(again.nodes.map((n) => n.peerId)).toEqual(report.nodes.map((n) => n.peerId));
      expect(existsSync(join(root, 'node-000', 'node_key.pem'))).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('exits 2 with a message for a bad flag', async () => {
    const res = await runTestnet(['--peers', '-3']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^testnet: /);
  });
});
