/**
 * `bizra sim household | reform`: the policy simulation engine (sim/) from the command
 * line, without a daemon. Bad flags, unreadable or malformed reform files and refused
 * reform parameters are operator mistakes: one line naming the problem, exit 2.
 */
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { ConfigError } from '../../errors.ts';
import type { CliIo } from '../io.ts';

/** A non-negative amount of money in pounds, at most two decimals. */
function money(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d{1,2})?$/.test(value.trim()) || !Number.isFinite(n) || n > 1e9) {
    throw new InvalidArgumentError('expected an amount in pounds from 0 to 1000000000 (e.g. 60000 or 1250.50)');
  }
  return n;
}

function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

interface HouseholdOptions {
  salary: number;
  age: number;
  partnerSalary?: number;
  children: number;
  firstChildPre2017?: boolean;
  rent: number;
  disabled?: boolean;
  reform?: string;
  json?: boolean;
}

interface ReformOptions {
  seed?: number;
  cohorts?: number;
  json?: boolean;
  canonical?: boolean;
}

export function registerSim(program: Command, io: CliIo): void {
  const sim = program
    .command('sim')
    .description('Policy simulation: UK 2025-26 tax-benefit, input-output macro, emissions and policy gates.');

  sim
    .command('household')
    .description('Income tax, NICs, Universal Credit and net income of one household under 2025-26 rules.')
    .requiredOption('--salary <gbp>', 'gross annual salary, £', money)
    .option(
      '--age <years>',
      "age (the partner's too); 66 or over: State Pension, no employee NICs",
      wholeNumber(16, 120),
      30,
    )
    .option('--partner-salary <gbp>', "a partner's gross annual salary, £ (makes a couple)", money)
    .option('--children <n>', 'dependent children', wholeNumber(0, 20), 0)
    .option('--first-child-pre-2017', 'the first child was born before 6 April 2017')
    .option('--rent <gbp>', 'monthly rent, £ (Universal Credit housing costs)', money, 0)
    .option('--disabled', 'limited capability for work (Universal Credit LCWRA element)')
    .option('--reform <file>', 'apply a reform file to the rules')
    .option('--json', 'print as JSON')
    .action(async (opts: HouseholdOptions) => {
      const s = await import('../../../sim/index.ts');
      const set = s.loadParameterSet(s.loadDepartments());
      const values = opts.reform
        ? reformOrExit(
            () => s.reformValues(set, s.parseReformText(readReformFile(opts.reform!), set, opts.reform)),
            opts.reform,
          )
        : s.baselineValues(set);
      const result = reformOrExit(
        () =>
          s.calculateHousehold(s.taxBenefitRules(values), {
            salary: opts.salary,
            age: opts.age,
            partnerSalary: opts.partnerSalary,
            children: opts.children,
            firstChildPre2017: opts.firstChildPre2017 === true,
            rentMonthly: opts.rent,
            disabled: opts.disabled === true,
          }),
        'household',
      );
      if (opts.json) return io.print(JSON.stringify(result, null, 2));
      const rows: Array<[string, number]> = [
        ['gross income', result.gross_income],
        ['income tax', -result.income_tax],
        ['employee NICs', -result.employee_nics],
        ['Universal Credit', result.universal_credit],
        ['State Pension', result.state_pension],
        ['net income', result.net_income],
      ];
      io.print(
        `Household, ${opts.reform ? `reform ${opts.reform}` : '2025-26 rules'} (rest of UK), £ a year`,
        ...rows.map(([label, v]) => `  ${label.padEnd(18)}${pounds(v, 2).padStart(14)}`),
        `  (employer NICs ${pounds(result.employer_nics, 2)} are paid on top of the salary)`,
      );
    });

  sim
    .command('reform <file>')
    .description('Simulate a reform file against the 2025-26 baseline: revenue, deciles, macro, emissions, gates.')
    .option('--seed <n>', 'seed of the synthetic population', wholeNumber(0, 4294967295))
    .option('--cohorts <n>', 'household cohorts in the synthetic population', wholeNumber(1200, 1_000_000))
    .option('--json', 'print the result as JSON (sorted keys) with its digest')
    .option('--canonical', 'print the canonical encoding exactly (the bytes the digest covers)')
    .action(async (file: string, opts: ReformOptions) => {
      const s = await import('../../../sim/index.ts');
      const text = readReformFile(file);
      // Check the reform against the parameter set before the (slower) model is built.
      reformOrExit(() => s.parseReformText(text, s.loadParameterSet(s.loadDepartments()), file), file);
      const model = s.createModel({ seed: opts.seed, cohorts: opts.cohorts });
      const reform = s.parseReformText(text, model.parameters, file);
      const result = s.simulate(reform, { model });
      const digest = s.resultDigest(result);
      if (opts.canonical) return io.print(s.encodeResult(result));
      if (opts.json) return io.print(JSON.stringify(s.sortKeys({ ...result, digest }), null, 2));
      io.print(...formatReform(result, digest));
    });
}

function readReformFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(`cannot read reform file ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
}

/** Runs `f`; a refused reform or household (ReformError) becomes a ConfigError: exit 2, one line. */
function reformOrExit<T>(f: () => T, source: string): T {
  try {
    return f();
  } catch (err) {
    if ((err as Error)?.name === 'ReformError') throw new ConfigError(`${source}: ${(err as Error).message}`);
    throw err;
  }
}

function pounds(x: number, decimals: number): string {
  const sign = x < 0 ? '-' : '';
  return `${sign}£${Math.abs(x).toLocaleString('en-GB', { minimumFractionDigits: decimals, maximumFractionDigits: decimals })}`;
}

function signedMillions(x: number): string {
  const m = x / 1e6;
  const text = Math.abs(m).toLocaleString('en-GB', { maximumFractionDigits: 0 });
  return `${m > 0 && text !== '0' ? '+' : m < 0 && text !== '0' ? '-' : ''}£${text}m`;
}

type SimResult = import('../../../sim/index.ts').SimResult;

function formatReform(r: SimResult, digest: string): string[] {
  const t = r.revenue_delta_by_tax_gbp;
  const line = (label: string, value: string) => `  ${label.padEnd(24)}${value.padStart(14)}`;
  const deciles = r.decile_impacts_gbp.map((v, i) => `${String(i + 1).padStart(4)} ${pounds(v, 2).padStart(10)}`);
  const wl = r.winners_losers;
  const g = r.distribution.protected_groups_gbp;
  const cb = r.carbon_budget;
  const ratios = r.fiscal.debt_ratio_pct;
  return [
    `Reform: ${r.reform.name} (${r.reform.year}-${String((r.reform.year + 1) % 100).padStart(2, '0')})`,
    `Digest: ${digest}`,
    '',
    'Exchequer, £ a year (+ = government gains)',
    line('income tax', signedMillions(t.income_tax)),
    line('employee NICs', signedMillions(t.employee_nics)),
    line('employer NICs', signedMillions(t.employer_nics)),
    line('VAT', signedMillions(t.vat)),
    line('Universal Credit', signedMillions(-r.benefit_delta_gbp.universal_credit)),
    line('State Pension', signedMillions(-r.benefit_delta_gbp.state_pension)),
    line('net revenue', signedMillions(r.revenue_delta_gbp)),
    'Spending and borrowing, £ a year (+ = more)',
    line('departmental spending', signedMillions(r.spending_delta_gbp)),
    line('borrowing', signedMillions(r.borrowing_delta_gbp)),
    '',
    'Households by income decile, £ a year each (+ = better off)',
    `  ${deciles.slice(0, 5).join('  ')}`,
    `  ${deciles.slice(5).join('  ')}`,
    `  winners ${wl.winners_households.toLocaleString('en-GB')} (${wl.winners_pct}%), losers ${wl.losers_households.toLocaleString('en-GB')} (${wl.losers_pct}%)`,
    `  disabled ${pounds(g.disabled, 2)}, pensioners ${pounds(g.pensioners, 2)}, families with children ${pounds(g.families_with_children, 2)}; all ${pounds(r.distribution.all_households_gbp, 2)}`,
    '',
    `Macro (synthetic IO table): output ${signedMillions(r.macro.output_delta_gbp)}, GVA ${signedMillions(r.macro.gva_delta_gbp)}, jobs ${r.macro.employment_delta_jobs.toLocaleString('en-GB')}`,
    `Emissions: ${r.emissions_delta_mtco2e} MtCO2e a year; ${cb.name} ${cb.status}, ${cb.status === 'COMPLIANT' ? `headroom ${cb.headroom_mtco2e}` : `overshoot ${cb.overshoot_mtco2e}`} MtCO2e (${cb.projected_mtco2e} of ${cb.limit_mtco2e})`,
    `Debt, % of GDP: ${r.fiscal.years.map((y, i) => `${y} ${ratios[i]}`).join(', ')}`,
    '',
    'Gates',
    ...r.gates.flatMap((gate) => [
      `  ${gate.allow ? 'ALLOW' : 'DENY '} ${gate.name}`,
      ...gate.messages.map((m) => `        ${m}`),
    ]),
  ];
}
