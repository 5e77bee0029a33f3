/**
 * The deterministic simulator inside the test suite: a few hundred seeds at n = 4, some
 * at n = 7, some through the wire codec and some whose clients submit through one
 * validator (the daemon's HTTP path), all safe and live; the coalition run, which must
 * fail, caught; gateways that do not relay, which must leave clients stuck, caught; and
 * the checker's own rules, each shown to fire.
 */
import { describe, expect, it } from 'vitest';
import { SafetyChecker } from '../sim/checker.ts';
import { Prng } from '../sim/prng.ts';
import { describePlan, runSimulation, type SimOptions } from '../sim/simulation.ts';

function runSeeds(count: number, first: number, opts: Partial<SimOptions> = {}): string[] {
  const failures: string[] = [];
  for (let seed = first; seed < first + count; seed++) {
    const r = runSimulation({ ...opts, seed });
    if (!r.ok) failures.push(`seed ${seed} (${describePlan(r.plan)}): ${r.failure}`);
  }
  return failures;
}

describe('PBFT simulator', () => {
  it('200 seeds at n = 4 stay safe and converge', () => {
    expect(runSeeds(200, 1)).toEqual([]);
  });

  it('25 seeds at n = 7 stay safe and converge', () => {
    expect(runSeeds(25, 1001, { n: 7 })).toEqual([]);
  });

  it('15 seeds with every message through the wire codec', () => {
    expect(runSeeds(15, 2001, { wire: true })).toEqual([]);
  });

  it('150 seeds whose clients submit through one validator, as HTTP clients do, stay safe and converge, their gateways relaying', () => {
    const failures: string[] = [];
    let relayed = 0;
    for (let seed = 3001; seed < 3151; seed++) {
      const r = runSimulation({ seed, gatewayClients: 3 });
      relayed += r.relayed;
      if (!r.ok) failures.push(`seed ${seed} (${describePlan(r.plan)}): ${r.failure}`);
    }
    expect(failures).toEqual([]);
    expect(relayed).toBeGreaterThan(100);
  });

  it('finds clients stuck when gateways do not relay (the daemon before its relay rule), so the rule is exercised', () => {
    const stuck = runSeeds(60, 3001, { gatewayClients: 3, gatewaysRelay: false });
    expect(stuck.length).toBeGreaterThan(0);
    for (const f of stuck) expect(f).toMatch(/liveness: clients unfinished/);
  });

  it('catches the coalition of f+1 validators sharing keys (the run that must fail), at n = 4 and n = 7', () => {
    for (const n of [4, 7]) {
      const r = runSimulation({ seed: 5, n, scenario: 'coalition' });
      expect(r.ok).toBe(false);
      expect(r.failure).toMatch(/^agreement: .* executed different batches at sequence 1/);
    }
  });

  it('replays a seed exactly', () => {
    const a = runSimulation({ seed: 77 });
    const b = runSimulation({ seed: 77 });
    expect(b).toEqual(a);
    expect(runSimulation({ seed: 78 })).not.toEqual(a);
  });

  it('exercises what it claims: faults, view changes, crashes, state transfers, Byzantine replicas, re-issued batches and VIEW-CHANGEs fetched', () => {
    const totals = {
      viewChanges: 0,
      crashes: 0,
      stateTransfers: 0,
      byzantine: 0,
      lossy: 0,
      batchesAsked: 0,
      viewChangesAsked: 0,
    };
    for (let seed = 1; seed <= 40; seed++) {
      const r = runSimulation({ seed });
      totals.viewChanges += r.viewChanges;
      totals.batchesAsked += r.batchesAsked;
      totals.viewChangesAsked += r.viewChangesAsked;
      totals.crashes += r.crashes;
      totals.stateTransfers += r.stateTransfers;
      totals.byzantine += r.plan.byzantine.length;
      if (r.plan.loss > 0.1) totals.lossy++;
    }
    for (const [k, v] of Object.entries(totals)) expect(v, k).toBeGreaterThan(5);
  });
});

describe('the safety checker', () => {
  const batch = (seq: number, d: number, requests: { client: Uint8Array; timestamp: number }[] = []) => ({
    seq,
    view: 0,
    digest: new Uint8Array(32).fill(d),
    requests: requests as never,
    results: [],
  });

  it('accepts agreeing replicas', () => {
    const c = new SafetyChecker();
    c.committed('r1', batch(1, 1));
    c.committed('r2', batch(1, 1));
    c.committed('r1', batch(2, 2));
    expect(c.violation).toBeNull();
  });

  it('fires on disagreement, out-of-order execution, double execution and lost durability', () => {
    const disagree = new SafetyChecker();
    disagree.committed('r1', batch(1, 1));
    disagree.committed('r2', batch(1, 2));
    expect(disagree.violation).toMatch(/^agreement: r1 and r2/);
    const order = new SafetyChecker();
    order.committed('r1', batch(2, 1));
    expect(order.violation).toMatch(/^order/);
    const twice = new SafetyChecker();
    const req = { client: new Uint8Array(32), timestamp: 1 };
    twice.committed('r1', batch(1, 1, [req]));
    twice.committed('r1', batch(2, 2, [req]));
    expect(twice.violation).toMatch(/^exactly-once/);
    const amnesia = new SafetyChecker();
    amnesia.recovered('r1', 3, 5);
    expect(amnesia.violation).toMatch(/^durability/);
    const transfer = new SafetyChecker();
    transfer.transferred('r1', 8);
    transfer.committed('r1', batch(9, 1));
    expect(transfer.violation).toBeNull();
  });
});

describe('the PRNG', () => {
  it('is deterministic per seed and roughly uniform', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(new Prng(43).next()).not.toBe(xs[0]);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
