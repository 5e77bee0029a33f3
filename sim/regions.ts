/** The twelve ITL1 regions (International Territorial Levels, ONS, 2021 codes), in ONS order. */
export const REGIONS = [
  ['TLC', 'North East'],
  ['TLD', 'North West'],
  ['TLE', 'Yorkshire and The Humber'],
  ['TLF', 'East Midlands'],
  ['TLG', 'West Midlands'],
  ['TLH', 'East of England'],
  ['TLI', 'London'],
  ['TLJ', 'South East'],
  ['TLK', 'South West'],
  ['TLL', 'Wales'],
  ['TLM', 'Scotland'],
  ['TLN', 'Northern Ireland'],
] as const;

export type RegionCode = (typeof REGIONS)[number][0];
export const REGION_CODES: readonly RegionCode[] = REGIONS.map((r) => r[0]);
export const REGION_COUNT = REGIONS.length;
