/** The departments a reform can change (`spending.<key>.rdel_pct`), read from data/departments.json. */
import { num, record, shares, str } from '../data/check.ts';
import { readDataFile } from '../data/read.ts';
import { SimDataError } from '../errors.ts';
import { REGION_CODES, type RegionCode } from '../regions.ts';

export interface Department {
  key: string;
  name: string;
  /** 2025-26 resource DEL, £ a year. */
  rdelGbp: number;
  /** Set for devolved block grants: spent in this ITL1 region. */
  region: RegionCode | undefined;
  /** Industry code and share of each £ spent. */
  sectors: ReadonlyArray<readonly [string, number]>;
}

export interface DepartmentData {
  version: string;
  departments: readonly Department[];
  marginalPropensityToConsume: number;
  consumptionSectors: ReadonlyArray<readonly [string, number]>;
}

export function loadDepartments(): DepartmentData {
  const file = 'departments.json';
  const root = record(readDataFile(file), file);
  const depts = record(root['departments'], `${file} departments`);
  const departments: Department[] = Object.entries(depts).map(([key, raw]) => {
    const where = `${file} departments.${key}`;
    if (!/^[a-z][a-z0-9_]*$/.test(key)) throw new SimDataError(`${where}: key must be snake_case`);
    const d = record(raw, where);
    const region = d['region'];
    if (region !== undefined && !REGION_CODES.includes(region as RegionCode)) {
      throw new SimDataError(`${where}.region: not an ITL1 code`);
    }
    return {
      key,
      name: str(d['name'], `${where}.name`),
      rdelGbp: num(d['rdel_gbp_bn'], `${where}.rdel_gbp_bn`, 0, 10000) * 1e9,
      region: region as RegionCode | undefined,
      sectors: shares(d['sectors'], `${where}.sectors`),
    };
  });
  const hc = record(root['household_consumption'], `${file} household_consumption`);
  return {
    version: str(root['version'], `${file} version`),
    departments,
    marginalPropensityToConsume: num(
      hc['marginal_propensity_to_consume'],
      `${file} marginal_propensity_to_consume`,
      0,
      1,
    ),
    consumptionSectors: shares(hc['sectors'], `${file} household_consumption.sectors`),
  };
}
