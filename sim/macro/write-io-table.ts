/**
 * Rewrites sim/data/io-table-105.json from the seeded procedure in synthetic-io.ts:
 * `npm exec -- node sim/macro/write-io-table.ts`. Then run biome on it (it formats JSON).
 */
import { writeFileSync } from 'node:fs';
import { generateSyntheticIoTable } from './synthetic-io.ts';

const target = new URL('../data/io-table-105.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(generateSyntheticIoTable(), null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);
