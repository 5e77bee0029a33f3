/**
 * npm run sim:pbft -- --seeds 10000 [--start 1] [--n 4] [--wire] [--gateway-clients K] [--seed S]
 *
 * Runs the deterministic PBFT simulator (consensus/sim) over many seeds: faults (loss,
 * duplication, reordering, partitions, crashes and restarts through the WAL, up to f
 * Byzantine replicas), then the safety and liveness checks. Prints throughput in seeds
 * per second and, for every failure, the command that replays it. Before the seeds it
 * runs the coalition scenario (f + 1 validators sharing keys across a partition), which
 * must fail: a checker that cannot fail proves nothing. Exit 1 on any failure, or if the
 * coalition run passes. `--gateway-clients K` makes K of the clients submit as the
 * daemon's HTTP clients do, through one validator that relays their requests
 * (SimOptions.gatewayClients).
 */
import { parseArgs } from 'node:util';
import { defaultSimOptions, describePlan, runSimulation, type SimOptions } from '../consensus/sim/simulation.ts';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '100' },
    start: { type: 'string', default: '1' },
    seed: { type: 'string' },
    n: { type: 'string', default: '4' },
    clients: { type: 'string' },
    requests: { type: 'string' },
    'fault-ms': { type: 'string' },
    'gateway-clients': { type: 'string' },
    wire: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(
    'usage: node scripts/sim-pbft.ts [--seeds N] [--start S] [--seed S (replay one, verbose)] [--n 4] [--clients 3] [--requests 8] [--fault-ms 3000] [--gateway-clients 0] [--wire]',
  );
  process.exit(0);
}

function int(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isSafeInteger(x) || x < min) {
    console.error(`sim-pbft: --${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return x;
}

const n = int('n', values.n, 1)!;
const common: Partial<SimOptions> = { n, wire: values.wire };
const clients = int('clients', values.clients, 1);
const requests = int('requests', values.requests, 1);
const faultMs = int('fault-ms', values['fault-ms'], 0);
if (clients !== undefined) common.clients = clients;
if (requests !== undefined) common.requestsPerClient = requests;
if (faultMs !== undefined) common.faultPhaseMs = faultMs;
const gateways = int('gateway-clients', values['gateway-clients'], 0);
const clientCount = clients ?? defaultSimOptions.clients;
if (gateways !== undefined && gateways > clientCount) {
  console.error(`sim-pbft: --gateway-clients must be at most the ${clientCount} clients, got ${gateways}`);
  process.exit(2);
}
if (gateways !== undefined) common.gatewayClients = gateways;

const flags = [`--n ${n}`, values.wire ? '--wire' : '', values.clients ? `--clients ${clients}` : '']
  .concat(
    values.requests ? [`--requests ${requests}`] : [],
    values['fault-ms'] ? [`--fault-ms ${faultMs}`] : [],
    gateways ? [`--gateway-clients ${gateways}`] : [],
  )
  .filter(Boolean)
  .join(' ');
const replay = (seed: number): string => `npm run sim:pbft -- --seed ${seed} ${flags}`;

const single = int('seed', values.seed, 0);
if (single !== undefined) {
  const r = runSimulation({ ...common, seed: single });
  console.log(`seed ${single}: ${describePlan(r.plan)}`);
  console.log(JSON.stringify({ ...r, plan: undefined }, null, 2));
  console.log(r.ok ? 'ok' : `FAILED: ${r.failure}`);
  process.exit(r.ok ? 0 : 1);
}

// The run that must fail.
const mustFail = runSimulation({ ...common, seed: int('start', values.start, 0)!, scenario: 'coalition' });
if (mustFail.ok) {
  console.error('sim-pbft: the coalition run (f+1 validators sharing keys) passed: the checker cannot fail');
  process.exit(1);
}
console.log(`checker self-test: the coalition run (f+1 shared keys) was caught: ${mustFail.failure}`);

const count = int('seeds', values.seeds, 1)!;
const start = int('start', values.start, 0)!;
const failures: { seed: number; failure: string; plan: string }[] = [];
const totals = {
  executed: 0,
  viewChanges: 0,
  crashes: 0,
  stateTransfers: 0,
  batchesAsked: 0,
  viewChangesAsked: 0,
  relayed: 0,
  messages: 0,
  simulatedMs: 0,
};
const t0 = performance.now();
let lastReport = t0;
for (let i = 0; i < count; i++) {
  const seed = start + i;
  const r = runSimulation({ ...common, seed });
  totals.executed += r.executed;
  totals.viewChanges += r.viewChanges;
  totals.crashes += r.crashes;
  totals.stateTransfers += r.stateTransfers;
  totals.batchesAsked += r.batchesAsked;
  totals.viewChangesAsked += r.viewChangesAsked;
  totals.relayed += r.relayed;
  totals.messages += r.messages;
  totals.simulatedMs += r.simulatedMs;
  if (!r.ok) {
    failures.push({ seed, failure: r.failure ?? '', plan: describePlan(r.plan) });
    console.log(`seed ${seed} FAILED: ${r.failure}\n  ${describePlan(r.plan)}\n  replay: ${replay(seed)}`);
  }
  const now = performance.now();
  if (now - lastReport > 5000) {
    lastReport = now;
    console.log(
      `${i + 1}/${count} seeds, ${((i + 1) / ((now - t0) / 1000)).toFixed(1)} seeds/s, ${failures.length} failed`,
    );
  }
}
const seconds = (performance.now() - t0) / 1000;
console.log(
  `${count} seeds (n=${n}${values.wire ? ', wire' : ''}) in ${seconds.toFixed(1)} s: ${(count / seconds).toFixed(1)} seeds/s; ` +
    `${failures.length} failed; simulated ${(totals.simulatedMs / 1000).toFixed(0)} s, ${totals.messages} messages, ` +
    `${totals.viewChanges} view changes, ${totals.crashes} crashes, ${totals.stateTransfers} state transfers, ` +
    `${totals.batchesAsked} requests for re-issued batches, ${totals.viewChangesAsked} for VIEW-CHANGEs a NEW-VIEW named` +
    (gateways ? `; ${totals.relayed} requests relayed by gateways` : ''),
);
if (failures.length > 0) {
  console.log(`failed seeds: ${failures.map((f) => f.seed).join(' ')}`);
  console.log(`replay one: ${replay(failures[0]!.seed)}`);
  process.exit(1);
}
