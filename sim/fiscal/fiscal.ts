/**
 * The debt path against the shipped baseline (data/fiscal-baseline.json). A reform's
 * extra borrowing b (£ a year, from year 0) adds (t + 1) x b to debt by the end of year t;
 * its GVA effect g (a level, every year) adds to nominal GDP. Debt as a share of GDP:
 *   ratio_t = (debt_t + (t + 1) b) / (gdp_t + g) x 100
 */
import { numbers, record, str } from '../data/check.ts';
import { readDataFile } from '../data/read.ts';
import { SimDataError } from '../errors.ts';

export interface FiscalBaseline {
  version: string;
  years: readonly string[];
  debtGbp: readonly number[];
  gdpGbp: readonly number[];
}

export function loadFiscalBaseline(): FiscalBaseline {
  const f = 'fiscal-baseline.json';
  const root = record(readDataFile(f), f);
  const years = root['years'];
  if (!Array.isArray(years) || years.length !== 6) throw new SimDataError(`${f} years: expected six years (0 to 5)`);
  return {
    version: str(root['version'], `${f} version`),
    years: years.map((y, i) => str(y, `${f} years[${i}]`)),
    debtGbp: numbers(root['debt_gbp_bn'], `${f} debt_gbp_bn`, 6, 0).map((x) => x * 1e9),
    gdpGbp: numbers(root['nominal_gdp_gbp_bn'], `${f} nominal_gdp_gbp_bn`, 6, 1).map((x) => x * 1e9),
  };
}

/** Debt as a per cent of GDP for years 0-5. */
export function debtRatioPath(base: FiscalBaseline, borrowingDeltaGbp: number, gdpDeltaGbp: number): number[] {
  return base.debtGbp.map((d, t) => ((d + (t + 1) * borrowingDeltaGbp) / (base.gdpGbp[t]! + gdpDeltaGbp)) * 100);
}
