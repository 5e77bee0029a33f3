/**
 * `bizra sim household | reform` as an operator runs them: real child processes of
 * node/bin/bizra.js, the shipped example reforms, and bad input that must exit 2 with
 * one line and no stack trace.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/bizra.js', import.meta.url));
const REFORMS = fileURLToPath(new URL('../../sim/reforms/', import.meta.url));

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: number }).code : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'bizra-sim-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Exit 2, one line on stderr matching `pattern`, nothing on stdout, no stack trace. */
function expectUsageError(r: RunResult, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('bizra sim household', () => {
  it('--salary 60000 --json prints income tax, employee NICs and net income', async () => {
    const r = await run(['sim', 'household', '--salary', '60000', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ income_tax: 11432, employee_nics: 3210.6, net_income: 45357.4 });
  });

  it('gets the issue table right for £30k, £100k and £150k', async () => {
    const cases: Array<[string, number, number]> = [
      ['30000', 3486, 1394.4],
      ['100000', 27432, 4010.6],
      ['150000', 53703, 5010.6],
    ];
    for (const [salary, tax, nics] of cases) {
      const out = JSON.parse((await run(['sim', 'household', '--salary', salary, '--json'])).stdout);
      expect([out.income_tax, out.employee_nics]).toEqual([tax, nics]);
    }
  });

  it('prints a readable table without --json, and takes household flags', async () => {
    const r = await run([
      'sim',
      'household',
      '--salary',
      '18000',
      '--children',
      '2',
      '--first-child-pre-2017',
      '--rent',
      '600',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/income tax\s+-£1,086\.00/);
    expect(r.stdout).toMatch(/Universal Credit\s+£13,232\.22/);
  });

  it('applies a reform file to the rules', async () => {
    const r = await run([
      'sim',
      'household',
      '--salary',
      '30000',
      '--reform',
      join(REFORMS, 'basic-rate-plus-1p.json'),
      '--json',
    ]);
    // (30,000 - 12,570) x 21% = 3,660.30
    expect(JSON.parse(r.stdout).income_tax).toBe(3660.3);
  });

  it('refuses bad flags with exit 2', async () => {
    expectUsageError(await run(['sim', 'household', '--salary', 'lots']), /--salary.*expected an amount in pounds/);
    expectUsageError(await run(['sim', 'household', '--salary', '-5']), /expected an amount in pounds|unknown option/);
    expectUsageError(await run(['sim', 'household']), /required option '--salary <gbp>' not specified/);
    expectUsageError(await run(['sim', 'household', '--salary', '1', '--children', '2.5']), /--children.*whole number/);
  });
});

describe('bizra sim reform', () => {
  it('--json prints the summary keys', async () => {
    const r = await run(['sim', 'reform', join(REFORMS, 'basic-rate-plus-1p.json'), '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.revenue_delta_gbp).toBeGreaterThan(6e9);
    expect(Object.keys(out.revenue_delta_by_tax_gbp).sort()).toEqual([
      'employee_nics',
      'employer_nics',
      'income_tax',
      'vat',
    ]);
    expect(out.decile_impacts_gbp).toHaveLength(10);
    expect(typeof out.emissions_delta_mtco2e).toBe('number');
    expect(out.carbon_budget.status).toMatch(/^(COMPLIANT|BREACH)$/);
    expect(out.gates.length).toBeGreaterThanOrEqual(2);
    for (const g of out.gates) expect(Object.keys(g).sort()).toEqual(['allow', 'messages', 'name']);
    expect(out.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('prints a readable summary without --json, with failed gates marked', async () => {
    const r = await run(['sim', 'reform', join(REFORMS, 'scrap-carbon-price.json')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Reform: Scrap the carbon price/m);
    expect(r.stdout).toMatch(/Sixth Carbon Budget BREACH, overshoot [\d.]+ MtCO2e/);
    expect(r.stdout).toMatch(/^ {2}DENY {2}climate\.carbon_budget$/m);
  });

  it('--canonical prints the bytes the digest covers, the same on every run', async () => {
    const args = ['sim', 'reform', join(REFORMS, 'uc-taper-50.json'), '--cohorts', '12000'];
    const [a, b] = await Promise.all([run([...args, '--canonical']), run([...args, '--canonical'])]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout.startsWith('{"benefit_delta_gbp":')).toBe(true);
  });

  it('refuses a missing file, malformed JSON, a bad path, a bad value, with exit 2 and one line', async () => {
    expectUsageError(
      await run(['sim', 'reform', join(dir, 'nope.json')]),
      /cannot read reform file .*nope\.json: no such file/,
    );
    expectUsageError(
      await run(['sim', 'reform', file('broken.json', '{"name": "x", ')]),
      /broken\.json is not valid JSON/,
    );
    const unknown = file(
      'unknown.json',
      JSON.stringify({ name: 'x', year: 2025, parameters: { 'vat.standard_rat': 0.21 } }),
    );
    expectUsageError(await run(['sim', 'reform', unknown]), /unknown parameter path "vat\.standard_rat"/);
    const range = file('range.json', JSON.stringify({ name: 'x', year: 2025, parameters: { 'uc.taper_rate': 2 } }));
    expectUsageError(await run(['sim', 'reform', range]), /"uc\.taper_rate" is out of range/);
    const type = file('type.json', JSON.stringify({ name: 'x', year: 2025, parameters: { 'uc.taper_rate': 'half' } }));
    expectUsageError(await run(['sim', 'reform', type]), /"uc\.taper_rate" must be a number/);
    expectUsageError(await run(['sim', 'reform', unknown, '--cohorts', 'many']), /--cohorts.*whole number/);
    // A refused reform is one line: the file, the path and what is wrong with it.
    expect((await run(['sim', 'reform', range])).stderr).toBe(
      `bizra: ${range}: parameter "uc.taper_rate" is out of range: 2 is not a rate from 0 to 1\n`,
    );
  });
});
