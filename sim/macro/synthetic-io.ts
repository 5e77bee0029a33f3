/**
 * The documented, seeded procedure that produced sim/data/io-table-105.json: a SYNTHETIC
 * domestic input-output coefficient table on the ONS 105-industry structure.
 *
 * Why synthetic: the ONS IOATs are published as spreadsheets this repository cannot
 * fetch or vendor here; a table "derived" from memory would be false precision. This one
 * is honest about what it is: the industry list is real, the coefficients are generated
 * to have the shape of a developed-economy table, and the test suite checks the property
 * that matters for the multipliers: every Type I output multiplier lies in 1.3 to 2.5.
 *
 * For each buying industry j (a column):
 *   1. its domestic intermediate share s_j is drawn uniformly in its group's range;
 *   2. raw weights go to suppliers: its own industry (0.15), the other industries of its
 *      group (0.25 between them), its group's upstream groups, and economy-wide hubs
 *      (energy, wholesale, haulage, telecoms, IT, finance, property, business services);
 *   3. each weight is multiplied by a draw in [0.5, 1.5), then all are scaled to sum to s_j;
 *   4. coefficients are rounded to 6 decimals (those that round to 0 are dropped).
 * Import shares are drawn in the group's range; GVA share = 1 - sum of column - imports.
 * One mulberry32 stream (seed IO_TABLE_SEED) is consumed in industry order, so the table
 * is the same on every machine. `node sim/macro/write-io-table.ts` rewrites the file, and
 * a test checks the shipped file equals this procedure's output.
 */
import { mulberry32 } from '../prng.ts';
import { REGION_CODES } from '../regions.ts';
import { GROUPS, type Group, INDUSTRIES } from './industries.ts';

export const IO_TABLE_SEED = 20250406;

interface GroupShape {
  /** Range of the domestic intermediate share of output. */
  intermediate: readonly [number, number];
  /** Range of the imported intermediate share of output. */
  imports: readonly [number, number];
  /** Jobs (headcount) per £1m of output: indicative, magnitude of ONS output per job. */
  jobsPerGbpM: number;
  /** Groups that supply this one heavily, and the raw weight shared between their industries. */
  upstream: ReadonlyArray<readonly [Group, number]>;
  /**
   * Relative concentration in each ITL1 region (ONS order), applied to the region's share of
   * households and then normalised: London heavy in finance, Scotland in oil and gas, etc.
   */
  regionalTilt: readonly number[];
}

const EVEN = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
//                    NE   NW   YH   EM   WM   E    Lon  SE   SW   Wal  Sco  NI
const MANUFACTURING = [1.3, 1.3, 1.3, 1.5, 1.5, 1.0, 0.3, 0.8, 1.0, 1.4, 0.9, 1.2];
const CITY_SERVICES = [0.6, 0.8, 0.7, 0.6, 0.7, 0.9, 2.4, 1.2, 0.7, 0.5, 0.9, 0.6];
const RURAL = [0.9, 0.6, 1.0, 1.3, 0.9, 1.4, 0.1, 0.8, 1.6, 1.6, 1.7, 2.6];

const SHAPES: Record<Group, GroupShape> = {
  agriculture: {
    intermediate: [0.38, 0.5],
    imports: [0.08, 0.14],
    jobsPerGbpM: 11,
    upstream: [['chemicals', 0.1]],
    regionalTilt: RURAL,
  },
  mining: {
    intermediate: [0.28, 0.4],
    imports: [0.06, 0.12],
    jobsPerGbpM: 1.5,
    upstream: [['engineering', 0.1]],
    regionalTilt: [1.3, 0.5, 0.9, 0.9, 0.4, 0.7, 0.1, 0.5, 0.8, 1.2, 6.5, 0.8],
  },
  food: {
    intermediate: [0.5, 0.58],
    imports: [0.12, 0.18],
    jobsPerGbpM: 4.5,
    upstream: [['agriculture', 0.35]],
    regionalTilt: MANUFACTURING,
  },
  light_manufacturing: {
    intermediate: [0.4, 0.52],
    imports: [0.18, 0.26],
    jobsPerGbpM: 6,
    upstream: [['chemicals', 0.08]],
    regionalTilt: MANUFACTURING,
  },
  heavy_manufacturing: {
    intermediate: [0.42, 0.55],
    imports: [0.16, 0.24],
    jobsPerGbpM: 3.5,
    upstream: [
      ['mining', 0.12],
      ['energy', 0.12],
    ],
    regionalTilt: [1.6, 1.1, 1.8, 1.2, 1.3, 0.9, 0.2, 0.6, 0.7, 2.4, 0.8, 1.1],
  },
  chemicals: {
    intermediate: [0.38, 0.5],
    imports: [0.2, 0.28],
    jobsPerGbpM: 2.5,
    upstream: [
      ['mining', 0.08],
      ['energy', 0.1],
    ],
    regionalTilt: [1.9, 1.8, 1.2, 1.0, 0.8, 1.1, 0.4, 1.0, 0.6, 1.0, 1.0, 0.7],
  },
  engineering: {
    intermediate: [0.4, 0.52],
    imports: [0.2, 0.28],
    jobsPerGbpM: 5,
    upstream: [['heavy_manufacturing', 0.15]],
    regionalTilt: MANUFACTURING,
  },
  energy: {
    intermediate: [0.45, 0.56],
    imports: [0.1, 0.2],
    jobsPerGbpM: 1.5,
    upstream: [['mining', 0.3]],
    regionalTilt: [1.1, 1.1, 1.5, 1.2, 0.8, 1.0, 0.5, 0.9, 0.9, 1.3, 1.6, 0.9],
  },
  water_waste: {
    intermediate: [0.36, 0.46],
    imports: [0.04, 0.08],
    jobsPerGbpM: 4,
    upstream: [['energy', 0.08]],
    regionalTilt: EVEN,
  },
  construction: {
    intermediate: [0.45, 0.56],
    imports: [0.06, 0.1],
    jobsPerGbpM: 7,
    upstream: [
      ['heavy_manufacturing', 0.15],
      ['light_manufacturing', 0.08],
      ['engineering', 0.08],
    ],
    regionalTilt: EVEN,
  },
  trade: {
    intermediate: [0.3, 0.4],
    imports: [0.04, 0.08],
    jobsPerGbpM: 12,
    upstream: [['transport', 0.1]],
    regionalTilt: EVEN,
  },
  transport: {
    intermediate: [0.36, 0.48],
    imports: [0.06, 0.14],
    jobsPerGbpM: 7,
    upstream: [['energy', 0.15]],
    regionalTilt: [0.9, 1.1, 1.0, 1.2, 1.1, 1.2, 1.3, 1.1, 0.8, 0.8, 0.9, 0.8],
  },
  hospitality: {
    intermediate: [0.38, 0.48],
    imports: [0.04, 0.08],
    jobsPerGbpM: 20,
    upstream: [
      ['food', 0.25],
      ['agriculture', 0.05],
    ],
    regionalTilt: [0.9, 1.0, 0.9, 0.8, 0.9, 0.9, 1.4, 1.0, 1.3, 1.0, 1.1, 0.8],
  },
  information: {
    intermediate: [0.3, 0.42],
    imports: [0.05, 0.1],
    jobsPerGbpM: 5,
    upstream: [['professional', 0.06]],
    regionalTilt: CITY_SERVICES,
  },
  finance: {
    intermediate: [0.24, 0.36],
    imports: [0.03, 0.06],
    jobsPerGbpM: 3,
    upstream: [['information', 0.08]],
    regionalTilt: CITY_SERVICES,
  },
  real_estate: {
    intermediate: [0.22, 0.3],
    imports: [0.01, 0.03],
    jobsPerGbpM: 1,
    upstream: [['construction', 0.15]],
    regionalTilt: [0.7, 0.9, 0.8, 0.9, 0.9, 1.1, 1.8, 1.3, 1.0, 0.7, 0.8, 0.6],
  },
  professional: {
    intermediate: [0.28, 0.4],
    imports: [0.04, 0.08],
    jobsPerGbpM: 8,
    upstream: [['information', 0.06]],
    regionalTilt: CITY_SERVICES,
  },
  admin_support: {
    intermediate: [0.3, 0.42],
    imports: [0.03, 0.07],
    jobsPerGbpM: 14,
    upstream: [['transport', 0.05]],
    regionalTilt: [0.9, 1.0, 0.9, 0.9, 1.0, 1.0, 1.5, 1.1, 0.9, 0.8, 0.9, 0.8],
  },
  public_admin: {
    intermediate: [0.3, 0.4],
    imports: [0.03, 0.06],
    jobsPerGbpM: 9,
    upstream: [
      ['professional', 0.08],
      ['admin_support', 0.06],
    ],
    regionalTilt: [1.1, 1.0, 1.0, 0.9, 0.9, 0.8, 1.4, 0.9, 1.0, 1.2, 1.1, 1.3],
  },
  education: {
    intermediate: [0.24, 0.32],
    imports: [0.02, 0.04],
    jobsPerGbpM: 15,
    upstream: [['real_estate', 0.06]],
    regionalTilt: EVEN,
  },
  health: {
    intermediate: [0.32, 0.42],
    imports: [0.04, 0.08],
    jobsPerGbpM: 13,
    upstream: [
      ['chemicals', 0.15],
      ['professional', 0.04],
    ],
    regionalTilt: EVEN,
  },
  social_care: {
    intermediate: [0.26, 0.34],
    imports: [0.02, 0.04],
    jobsPerGbpM: 25,
    upstream: [['real_estate', 0.06]],
    regionalTilt: EVEN,
  },
  arts_recreation: {
    intermediate: [0.3, 0.42],
    imports: [0.03, 0.07],
    jobsPerGbpM: 12,
    upstream: [['information', 0.05]],
    regionalTilt: [0.8, 1.0, 0.9, 0.8, 0.9, 0.9, 1.6, 1.0, 1.0, 0.9, 1.0, 0.8],
  },
  other_services: {
    intermediate: [0.26, 0.36],
    imports: [0.03, 0.06],
    jobsPerGbpM: 18,
    upstream: [['trade', 0.05]],
    regionalTilt: EVEN,
  },
};

/** Industries every other buys from, with their raw weight. */
const HUBS: ReadonlyArray<readonly [string, number]> = [
  ['D351', 0.05],
  ['D352_3', 0.02],
  ['C19', 0.03],
  ['G46', 0.06],
  ['H493T495', 0.05],
  ['H52', 0.03],
  ['H53', 0.01],
  ['J61', 0.03],
  ['J62', 0.04],
  ['K64', 0.05],
  ['K65.1-2 & K65.3', 0.03],
  ['L68BXL683', 0.06],
  ['M691', 0.02],
  ['M692', 0.03],
  ['M70', 0.05],
  ['M73', 0.02],
  ['N77', 0.03],
  ['N78', 0.03],
  ['N81', 0.03],
  ['N82', 0.04],
  ['F41, F42 & F43', 0.03],
  ['C17', 0.01],
  ['C22', 0.02],
  ['C25OTHER', 0.02],
  ['E38', 0.01],
];

const OWN_WEIGHT = 0.15;
const GROUP_WEIGHT = 0.25;

export interface IoIndustry {
  code: string;
  name: string;
  group: Group;
  import_share: number;
  gva_share: number;
}

export interface IoTableFile {
  schema: 'bizra.sim.io-table/v1';
  version: string;
  synthetic: true;
  note: string;
  generator: { module: string; seed: number };
  sources: Record<string, { title: string; url: string; date: string }>;
  regions: string[];
  groups: Record<string, { jobs_per_gbp_m: number; regional_tilt: number[] }>;
  industries: IoIndustry[];
  /** coefficients[buyer][supplier] = £ bought from the supplier per £ of the buyer's output. */
  coefficients: Record<string, Record<string, number>>;
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

export function generateSyntheticIoTable(seed: number = IO_TABLE_SEED): IoTableFile {
  const rng = mulberry32(seed);
  const n = INDUSTRIES.length;
  const index = new Map(INDUSTRIES.map(([code], i) => [code, i]));
  const members = new Map<Group, number[]>(GROUPS.map((g) => [g, []]));
  INDUSTRIES.forEach(([, , g], i) => {
    members.get(g)!.push(i);
  });
  for (const [code] of HUBS) if (!index.has(code)) throw new Error(`hub ${code} is not an industry`);

  const coefficients: Record<string, Record<string, number>> = {};
  const industries: IoIndustry[] = [];
  for (let j = 0; j < n; j++) {
    const [code, name, group] = INDUSTRIES[j]!;
    const shape = SHAPES[group];
    const s = shape.intermediate[0] + (shape.intermediate[1] - shape.intermediate[0]) * rng.next();
    const m = shape.imports[0] + (shape.imports[1] - shape.imports[0]) * rng.next();
    const w = new Float64Array(n);
    w[j]! += OWN_WEIGHT;
    const peers = members.get(group)!.filter((i) => i !== j);
    for (const i of peers) w[i]! += GROUP_WEIGHT / peers.length;
    if (peers.length === 0) w[j]! += GROUP_WEIGHT;
    for (const [up, weight] of shape.upstream) {
      const ups = members.get(up)!;
      for (const i of ups) w[i]! += weight / ups.length;
    }
    for (const [hub, weight] of HUBS) w[index.get(hub)!]! += weight;
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (w[i]! > 0) {
        w[i]! *= 0.5 + rng.next();
        total += w[i]!;
      }
    }
    const column: Record<string, number> = {};
    let colSum = 0;
    for (let i = 0; i < n; i++) {
      const a = round6((w[i]! / total) * s);
      if (a > 0) {
        column[INDUSTRIES[i]![0]] = a;
        colSum += a;
      }
    }
    coefficients[code] = column;
    const importShare = round6(m);
    industries.push({ code, name, group, import_share: importShare, gva_share: round6(1 - colSum - importShare) });
  }

  const groups: IoTableFile['groups'] = {};
  for (const g of GROUPS) {
    groups[g] = { jobs_per_gbp_m: SHAPES[g].jobsPerGbpM, regional_tilt: [...SHAPES[g].regionalTilt] };
  }
  return {
    schema: 'bizra.sim.io-table/v1',
    version: `synthetic-105/seed-${seed}`,
    synthetic: true,
    note:
      'SYNTHETIC coefficients on the ONS 105-industry structure, generated by sim/macro/synthetic-io.ts ' +
      '(documented seeded procedure). Industry labels are ONS IOAT labels; coefficients, import shares, ' +
      'jobs per £m and regional tilts are illustrative, not ONS figures. Type I output multipliers lie in 1.3-2.5.',
    generator: { module: 'sim/macro/synthetic-io.ts', seed },
    sources: {
      structure: {
        title: 'UK input-output analytical tables: industry by industry (105 industries)',
        url: 'https://www.ons.gov.uk/economy/nationalaccounts/supplyandusetables/datasets/ukinputoutputanalyticaltablesindustrybyindustry',
        date: '2023-03-23',
      },
      regions: {
        title: 'International Territorial Levels (ITL) 2021',
        url: 'https://www.ons.gov.uk/methodology/geography/ukgeographies/eurostat',
        date: '2021-01-01',
      },
    },
    regions: [...REGION_CODES],
    groups,
    industries,
    coefficients,
  };
}
