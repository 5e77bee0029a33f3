/**
 * `npm run bench:oldest-first`: the cost of one insert into a full bounded Map that drops
 * its oldest entry each time, as PbftVerifier's cache of valid signatures does (65,536
 * entries) at a saturated validator: with a fresh iterator per drop
 * (`map.delete(map.keys().next().value)`, which walks every entry deleted since the table
 * was last rebuilt) and with OldestFirst's kept iterator (protocol/oldest-first.ts). Rounds
 * alternate the two; the ratio is fresh over kept within each round.
 */
import { OldestFirst } from '../protocol/oldest-first.ts';

const ENTRIES = 65_536;
const INSERTS = 400_000;
const ROUNDS = 3;

/** Microseconds per insert into a full map of ENTRIES, dropping the oldest with `drop`. */
function perInsert(drop: (map: Map<number, object>) => void, map: Map<number, object>): number {
  for (let k = 0; k < ENTRIES; k++) map.set(k, { k });
  const t0 = performance.now();
  for (let k = ENTRIES; k < ENTRIES + INSERTS; k++) {
    drop(map);
    map.set(k, { k });
  }
  return ((performance.now() - t0) * 1000) / INSERTS;
}

const fresh = (): number => perInsert((m) => m.delete(m.keys().next().value as number), new Map());
const kept = (): number => {
  const map = new Map<number, object>();
  const oldest = new OldestFirst(map);
  return perInsert(() => oldest.deleteOldest(), map);
};

process.stdout.write(
  `a full Map of ${ENTRIES} entries, ${INSERTS} inserts a round, each dropping the oldest entry\n| round | fresh iterator µs/insert | OldestFirst µs/insert | fresh / OldestFirst |\n|---|---|---|---|\n`,
);
for (let round = 1; round <= ROUNDS; round++) {
  const a = fresh();
  const b = kept();
  process.stdout.write(`| ${round} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(a / b).toFixed(1)} |\n`);
}
