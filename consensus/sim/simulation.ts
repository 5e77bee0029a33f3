/**
 * A deterministic PBFT simulation (after TigerBeetle's VOPR and FoundationDB's simulator):
 * n real replicas and a few clients in one process, a simulated network and clock, and
 * every choice (delays, losses, partitions, crashes, Byzantine lies) drawn from one seeded
 * PRNG, so a seed replays its run exactly.
 *
 * A run has two phases. Fault phase: loss, duplication, reordering (random delays),
 * partitions, crashes and restarts through each replica's in-memory WAL, and up to f
 * Byzantine replicas; the safety checker watches every execution. Liveness phase: the
 * network heals and crashed replicas restart (the Byzantine ones stay); every client
 * request must complete and every correct replica must converge to the same executed
 * sequence number and state.
 *
 * The 'coalition' scenario must fail: f + 1 validators (more where n is not 3f + 1, as
 * many as it takes) whose keys are shared by two honest processes each, one on each side of a partition that also splits the correct
 * replicas (Jepsen's duplicated-validator test of Tendermint). Each side holds a quorum,
 * so each commits its own batch at sequence 1, and the checker has to say so.
 */
import { Ed25519Signer } from '../../protocol/crypto/ed25519.ts';
import { decodePbftMessage, encodePbftMessage } from '../../protocol/pbft/codec.ts';
import type { PbftMessage, PbftReply, PbftRequest } from '../../protocol/pbft/types.ts';
import { PbftVerifier } from '../../protocol/pbft/verifier.ts';
import { PbftClient } from '../pbft/client.ts';
import { encodeKvOperation, KvApp } from '../pbft/kv-app.ts';
import type { PbftOptions } from '../pbft/options.ts';
import type { PbftOutput, PbftTimer } from '../pbft/output.ts';
import { maxFaulty, quorumSize, sameDigest } from '../pbft/quorum.ts';
import { PbftReplica } from '../pbft/replica.ts';
import { BROADCAST_FROM_RETRANSMISSION } from '../pbft/retransmit.ts';
import { MemoryWal } from '../pbft/wal.ts';
import { BYZANTINE_BEHAVIOURS, type ByzantineBehaviour, ByzantineStrategy } from './byzantine.ts';
import { SafetyChecker } from './checker.ts';
import { EventQueue } from './event-queue.ts';
import { Prng } from './prng.ts';

export type SimScenario = 'random' | 'coalition';

export interface SimOptions {
  seed: number;
  /** Validators. */
  n: number;
  scenario: SimScenario;
  clients: number;
  requestsPerClient: number;
  faultPhaseMs: number;
  /** The liveness phase ends as soon as everything converged, or fails at this limit. */
  livenessPhaseMs: number;
  /** Round-trip every message through the wire codec (slower; checks the codec too). */
  wire: boolean;
  /** Replica options; the defaults below give short checkpoint intervals so short runs exercise GC and state transfer. */
  replica: Partial<PbftOptions>;
  clientRetransmitMs: number;
  /**
   * How many of the clients submit as the daemon's HTTP clients do (consensus-service.ts):
   * each hands its request to one correct validator only, its gateway, which relays it to
   * every replica from its BROADCAST_FROM_RETRANSMISSION-th retransmission, or at once
   * when the gateway has left its view (PbftReplica.relay). The others send to the primary
   * and then broadcast their retransmissions, as a PBFT client does.
   */
  gatewayClients: number;
  /**
   * Whether gateways relay (true). False models the daemon before the relay rule, where a
   * gateway that left its view alone held its clients' requests for good: the simulator
   * must then find clients stuck, which shows it exercises the rule (a test runs it).
   */
  gatewaysRelay: boolean;
}

export const defaultSimOptions: Readonly<SimOptions> = Object.freeze({
  seed: 1,
  n: 4,
  scenario: 'random',
  clients: 3,
  requestsPerClient: 8,
  faultPhaseMs: 3000,
  livenessPhaseMs: 60_000,
  wire: false,
  replica: Object.freeze({
    checkpointInterval: 4,
    logWindow: 8,
    batchSize: 3,
    batchDelayMs: 2,
    viewChangeTimeoutMs: 300,
    maxViewChangeTimeoutMs: 5000,
    statusIntervalMs: 100,
  }),
  clientRetransmitMs: 400,
  gatewayClients: 0,
  gatewaysRelay: true,
});

/** The faults a seed drew. */
export interface FaultPlan {
  loss: number;
  duplication: number;
  maxDelayMs: number;
  partitions: boolean;
  crashes: boolean;
  byzantine: { index: number; behaviour: ByzantineBehaviour }[];
}

export interface SimResult {
  seed: number;
  ok: boolean;
  failure: string | null;
  plan: FaultPlan;
  simulatedMs: number;
  events: number;
  messages: number;
  executed: number;
  maxView: number;
  crashes: number;
  stateTransfers: number;
  viewChanges: number;
  /** STATUS messages of correct replicas asking peers for batches a NEW-VIEW re-issued by digest only. */
  batchesAsked: number;
  /** STATUS messages of correct replicas asking for VIEW-CHANGEs a NEW-VIEW they hold back names. */
  viewChangesAsked: number;
  /** Gateway clients' requests their validator relayed to every replica (gatewayClients). */
  relayed: number;
  completedRequests: number;
}

interface SimNode {
  readonly name: string;
  readonly index: number;
  /** 0: reaches everyone; otherwise only nodes and clients of side 0 or the same side. */
  readonly side: number;
  readonly signer: Ed25519Signer;
  readonly wal: MemoryWal;
  readonly byz: ByzantineStrategy | null;
  /** Its executions are checked (not Byzantine, not a key-sharing duplicate). */
  readonly correct: boolean;
  replica: PbftReplica | null;
  readonly timers: Map<PbftTimer, number>;
  executedBeforeCrash: number;
}

interface SimClientState {
  readonly name: string;
  readonly side: number;
  readonly client: PbftClient;
  readonly total: number;
  done: number;
  timer: number;
  /** Times the current request was sent: 0 the first time, then its retransmissions. */
  sent: number;
}

const EXPECTED_PUT_RESULT = new TextEncoder().encode(JSON.stringify({ ok: true, previous: null }));

function drawPlan(prng: Prng, n: number): FaultPlan {
  const f = maxFaulty(n);
  const byzCount = prng.int(f + 1);
  const indices = [...Array(n).keys()];
  const byzantine: FaultPlan['byzantine'] = [];
  for (let i = 0; i < byzCount; i++) {
    const index = indices.splice(prng.int(indices.length), 1)[0]!;
    byzantine.push({ index, behaviour: prng.pick(BYZANTINE_BEHAVIOURS) });
  }
  return {
    loss: prng.chance(0.2) ? 0 : prng.range(0, 0.3),
    duplication: prng.chance(0.5) ? 0 : prng.range(0, 0.1),
    maxDelayMs: prng.pick([5, 20, 50, 100]),
    partitions: prng.chance(0.5),
    crashes: prng.chance(0.6),
    byzantine,
  };
}

export function describePlan(p: FaultPlan): string {
  const byz = p.byzantine.map((b) => `r${b.index}:${b.behaviour}`).join(',') || 'none';
  return `loss=${(p.loss * 100).toFixed(0)}% dup=${(p.duplication * 100).toFixed(0)}% delay<=${p.maxDelayMs}ms partitions=${p.partitions} crashes=${p.crashes} byzantine=${byz}`;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

/** Runs one seed. Deterministic: the same options give the same result. */
export function runSimulation(options: Partial<SimOptions> = {}): SimResult {
  const o: SimOptions = {
    ...defaultSimOptions,
    ...options,
    replica: { ...defaultSimOptions.replica, ...options.replica },
  };
  const prng = new Prng(o.seed);
  const netPrng = prng.fork();
  const faultPrng = prng.fork();
  const byzPrng = prng.fork();
  const f = maxFaulty(o.n);
  const coalition = o.scenario === 'coalition';
  const plan: FaultPlan = coalition
    ? { loss: 0, duplication: 0, maxDelayMs: 20, partitions: false, crashes: false, byzantine: [] }
    : drawPlan(prng.fork(), o.n);
  const queue = new EventQueue();
  const checker = new SafetyChecker();
  const verifier = new PbftVerifier();
  const signers = Array.from({ length: o.n }, () => Ed25519Signer.fromSeed(prng.bytes(32)));
  const validators = signers.map((s) => s.publicKey);
  const config = (index: number) => ({ validators, id: index });

  const stats = {
    messages: 0,
    crashes: 0,
    stateTransfers: 0,
    viewChanges: 0,
    batchesAsked: 0,
    viewChangesAsked: 0,
    relayed: 0,
    completed: 0,
    events: 0,
  };
  let faultsOn = true;
  let partition: number[] | null = null;
  let timerToken = 0;

  // ---- nodes ----
  const nodes: SimNode[] = [];
  const addNode = (index: number, side: number, suffix: string, correct: boolean): void => {
    const byzPlan = plan.byzantine.find((b) => b.index === index);
    const signer = signers[index]!;
    const node: SimNode = {
      name: `r${index}${suffix}`,
      index,
      side,
      signer,
      wal: new MemoryWal(),
      byz: byzPlan ? new ByzantineStrategy(byzPlan.behaviour, index, o.n, signer, byzPrng.fork()) : null,
      correct: correct && byzPlan === undefined,
      replica: null,
      timers: new Map(),
      executedBeforeCrash: 0,
    };
    node.replica = new PbftReplica(config(index), o.replica, { signer, app: new KvApp(), verifier });
    nodes.push(node);
  };
  if (coalition) {
    // The smallest coalition (at least f + 1) that gives each side of the split a quorum.
    let size = f + 1;
    while (size < o.n && size + Math.floor((o.n - size) / 2) < quorumSize(o.n)) size++;
    const correct = [...Array(o.n).keys()].slice(size);
    for (let i = 0; i < size; i++) {
      addNode(i, 1, 'a', false);
      addNode(i, 2, 'b', false);
    }
    correct.forEach((i, k) => {
      addNode(i, k < correct.length / 2 ? 1 : 2, '', true);
    });
  } else {
    for (let i = 0; i < o.n; i++) addNode(i, 0, '', true);
  }
  const byIndex: SimNode[][] = Array.from({ length: o.n }, () => []);
  for (const node of nodes) byIndex[node.index]!.push(node);

  // ---- clients ----
  // A gateway client's validator: a correct one (a Byzantine gateway could simply drop
  // its client's requests, which no protocol can help), spread over the validators.
  const gatewayOf = (c: number): number => {
    const correct = [...Array(o.n).keys()].filter((i) => !plan.byzantine.some((b) => b.index === i));
    return correct[c % correct.length]!;
  };
  const clients: SimClientState[] = [];
  const clientCount = coalition ? 2 : o.clients;
  for (let c = 0; c < clientCount; c++) {
    const gateway = !coalition && c < o.gatewayClients ? gatewayOf(c) : null;
    clients.push({
      name: `c${c}`,
      side: coalition ? c + 1 : 0,
      client: new PbftClient(
        validators,
        { retransmitTimeoutMs: o.clientRetransmitMs, gateway },
        {
          signer: Ed25519Signer.fromSeed(prng.bytes(32)),
          verifier,
        },
      ),
      total: o.requestsPerClient,
      done: 0,
      timer: 0,
      sent: 0,
    });
  }
  const clientByKey = new Map(clients.map((c) => [hex(c.client.id), c]));

  // ---- network ----
  const reach = (a: number, b: number): boolean => a === 0 || b === 0 || a === b;
  const wireCopies = new WeakMap<object, PbftMessage>();
  const onWire = (m: PbftMessage): PbftMessage => {
    if (!o.wire) return m;
    let copy = wireCopies.get(m);
    if (copy === undefined) {
      const decoded = decodePbftMessage(encodePbftMessage(m));
      if (!decoded.ok) throw new Error(`the codec refused a ${m.type} the replica produced: ${decoded.reason}`);
      copy = decoded.message;
      wireCopies.set(m, copy);
    }
    return copy;
  };
  /** Schedules `deliver` after a network delay, unless the network loses it; maybe twice. */
  const transmit = (fromIndex: number, toIndex: number, deliver: () => void): void => {
    stats.messages++;
    if (faultsOn) {
      if (partition !== null && fromIndex >= 0 && toIndex >= 0 && partition[fromIndex] !== partition[toIndex]) return;
      if (netPrng.chance(plan.loss)) return;
    }
    const copies = faultsOn && netPrng.chance(plan.duplication) ? 2 : 1;
    const maxDelay = faultsOn ? plan.maxDelayMs : Math.min(plan.maxDelayMs, 10);
    for (let i = 0; i < copies; i++) queue.at(queue.now + 1 + netPrng.next() * maxDelay, deliver);
  };

  const deliverTo = (node: SimNode, m: PbftMessage): void => {
    const replica = node.replica;
    if (replica === null) return;
    node.byz?.observe(m);
    handle(node, replica.receive(m, queue.now));
  };

  /**
   * A gateway client's request arriving at its validator, handled as the consensus service
   * handles an HTTP submission and its retransmissions (`retransmission` 0 is the first).
   */
  const submitAtGateway = (node: SimNode, request: PbftRequest, retransmission: number): void => {
    const replica = node.replica;
    if (replica === null) return;
    const relay = o.gatewaysRelay && (!replica.active || retransmission >= BROADCAST_FROM_RETRANSMISSION);
    if (relay) stats.relayed++;
    handle(node, relay ? replica.relay(request, queue.now) : replica.receive(request, queue.now));
  };

  const sendFrom = (node: SimNode, to: number | 'all', message: PbftMessage): void => {
    const targets = to === 'all' ? [...Array(o.n).keys()].filter((i) => i !== node.index) : [to];
    if (node.correct && message.type === 'status' && message.missingBatches.length > 0) stats.batchesAsked++;
    if (node.correct && message.type === 'status' && message.missingViewChanges.length > 0) stats.viewChangesAsked++;
    for (const t of targets) {
      const out = node.byz ? node.byz.rewrite(message, t) : [message];
      for (const m of out) {
        const wired = onWire(m);
        for (const dest of byIndex[t]!) {
          if (reach(node.side, dest.side)) transmit(node.index, t, () => deliverTo(dest, wired));
        }
      }
    }
  };

  const replyFrom = (node: SimNode, reply: PbftReply): void => {
    const c = clientByKey.get(hex(reply.client));
    if (c === undefined || !reach(node.side, c.side)) return;
    for (const r of node.byz ? node.byz.rewriteReply(reply) : [reply]) {
      const wired = onWire(r) as PbftReply;
      transmit(node.index, -1, () => clientReceive(c, wired));
    }
  };

  const setTimer = (node: SimNode, timer: PbftTimer, atMs: number | null): void => {
    const token = ++timerToken;
    node.timers.set(timer, token);
    if (atMs === null) return;
    queue.at(atMs, () => {
      if (node.replica === null || node.timers.get(timer) !== token) return;
      handle(node, node.replica.onTimer(timer, queue.now));
    });
  };

  function handle(node: SimNode, out: PbftOutput): void {
    node.wal.append(out.persist); // before anything leaves: the contract of output.ts
    for (const e of out.events) {
      if (e.kind === 'state-transferred') {
        stats.stateTransfers++;
        if (node.correct) checker.transferred(node.name, e.seq);
      } else if (e.kind === 'view-change-started') {
        stats.viewChanges++;
      }
    }
    if (node.correct) for (const c of out.committed) checker.committed(node.name, c);
    for (const s of out.send) sendFrom(node, s.to, s.message);
    for (const r of out.replies) replyFrom(node, r.message);
    for (const t of out.timers) setTimer(node, t.timer, t.atMs);
  }

  // ---- clients' behaviour ----
  const routeRequest = (c: SimClientState, to: number | 'all', request: PbftRequest, retransmitAtMs: number): void => {
    const wired = onWire(request) as PbftRequest;
    // A gateway client's PbftClient sends every copy to its gateway (`to`).
    const retransmission = c.sent++;
    const arrive =
      c.client.opts.gateway === null
        ? (dest: SimNode) => deliverTo(dest, wired)
        : (dest: SimNode) => submitAtGateway(dest, wired, retransmission);
    const targets = to === 'all' ? [...Array(o.n).keys()] : [to];
    for (const t of targets) {
      for (const dest of byIndex[t]!) if (reach(c.side, dest.side)) transmit(-1, t, () => arrive(dest));
    }
    const token = ++timerToken;
    c.timer = token;
    queue.at(retransmitAtMs, () => {
      if (c.timer !== token) return;
      const again = c.client.onTimer(queue.now);
      if (again !== null) routeRequest(c, again.to, again.message, again.retransmitAtMs);
    });
  };
  const issue = (c: SimClientState): void => {
    if (c.done >= c.total) return;
    const op = encodeKvOperation({ op: 'put', key: `${c.name}/${c.done}`, value: `v${c.done}` });
    const send = c.client.submit(op, queue.now);
    c.sent = 0;
    routeRequest(c, send.to, send.message, send.retransmitAtMs);
  };
  function clientReceive(c: SimClientState, reply: PbftReply): void {
    const outcome = c.client.receive(reply);
    if (!outcome.accepted || outcome.result === null) return;
    // Every key is written once, so the right result is always "no previous value";
    // anything else means a request ran twice or a lie reached f + 1 replies.
    if (!sameDigest(outcome.result, EXPECTED_PUT_RESULT)) {
      checker.wrongResult(`${c.name} accepted ${new TextDecoder().decode(outcome.result)} for request ${c.done}`);
    }
    c.done++;
    stats.completed++;
    c.timer = ++timerToken;
    queue.at(queue.now + 1 + netPrng.next() * 10, () => issue(c));
  }

  // ---- crashes and partitions ----
  const crash = (node: SimNode): void => {
    if (node.replica === null) return;
    node.executedBeforeCrash = node.replica.lastExecuted;
    node.replica = null;
    node.timers.clear();
    stats.crashes++;
  };
  const restart = (node: SimNode): void => {
    if (node.replica !== null) return;
    const replica = PbftReplica.recover(
      config(node.index),
      o.replica,
      { signer: node.signer, app: new KvApp(), verifier },
      node.wal.records(),
    );
    node.replica = replica;
    if (node.correct) checker.recovered(node.name, replica.lastExecuted, node.executedBeforeCrash);
    handle(node, replica.start(queue.now));
  };
  const scheduleFaults = (): void => {
    const fp = faultPrng;
    if (plan.partitions) {
      const repartition = (): void => {
        if (!faultsOn) return;
        if (fp.chance(0.4)) {
          const groups = Array.from({ length: o.n }, () => fp.int(2));
          partition = groups.every((g) => g === groups[0]) ? null : groups;
        } else {
          partition = null;
        }
        queue.at(queue.now + fp.range(100, 600), repartition);
      };
      queue.at(fp.range(50, 400), repartition);
    }
    if (plan.crashes) {
      const maybeCrash = (): void => {
        if (!faultsOn) return;
        const down = nodes.filter((x) => x.replica === null).length;
        const candidates = nodes.filter((x) => x.replica !== null && x.byz === null);
        if (candidates.length > 0 && down <= f && fp.chance(0.5)) {
          const victim = fp.pick(candidates);
          crash(victim);
          queue.at(queue.now + fp.range(50, 1200), () => {
            if (faultsOn) restart(victim);
          });
        }
        queue.at(queue.now + fp.range(150, 700), maybeCrash);
      };
      queue.at(fp.range(100, 600), maybeCrash);
    }
  };

  // ---- run ----
  for (const node of nodes) handle(node, node.replica!.start(0));
  for (const c of clients) queue.at(1 + netPrng.next() * 20, () => issue(c));
  if (!coalition) scheduleFaults();

  const endFaults = o.faultPhaseMs;
  const deadline = o.faultPhaseMs + o.livenessPhaseMs;
  let converged = false;
  queue.at(endFaults, () => {
    faultsOn = false;
    partition = null;
    for (const node of nodes) restart(node);
  });
  const correctNodes = nodes.filter((x) => x.correct);
  const convergence = (): string | null => {
    const unfinished = clients.filter((c) => c.done < c.total);
    if (unfinished.length > 0)
      return `clients unfinished: ${unfinished.map((c) => `${c.name} ${c.done}/${c.total}`).join(', ')}`;
    const execs = correctNodes.map((x) => x.replica?.lastExecuted ?? -1);
    if (execs.some((e) => e !== execs[0])) {
      return `replicas disagree on last executed: ${correctNodes.map((x, i) => `${x.name}=${execs[i]}(v${x.replica?.view}${x.replica?.active ? '' : '*'})`).join(' ')}`;
    }
    const digests = correctNodes.map((x) => hex(x.replica!.stateDigest()));
    if (digests.some((d) => d !== digests[0])) return `replicas executed to ${execs[0]} but their states differ`;
    return null;
  };
  const watch = (): void => {
    if (convergence() === null) {
      converged = true;
      return;
    }
    queue.at(queue.now + 50, watch);
  };
  queue.at(endFaults + 1, watch);

  while (checker.violation === null && !converged && queue.step(deadline)) stats.events++;
  if (checker.violation === null && !converged && !coalition) {
    const replicas = nodes
      .map((x) => {
        const r = x.replica?.status();
        return r
          ? `${x.name}:v${r.view}${r.active ? '' : '*'}/exec${r.lastExecuted}/h${r.stableCheckpoint}/pend${r.pendingRequests}`
          : `${x.name}:down`;
      })
      .join(' ');
    checker.liveness(`${convergence() ?? 'did not converge'} [${replicas}]`);
  }
  return {
    seed: o.seed,
    ok: checker.violation === null,
    failure: checker.violation,
    plan,
    simulatedMs: queue.now,
    events: stats.events,
    messages: stats.messages,
    executed: Math.max(0, ...correctNodes.map((x) => x.replica?.lastExecuted ?? 0)),
    maxView: Math.max(0, ...nodes.map((x) => x.replica?.view ?? 0)),
    crashes: stats.crashes,
    stateTransfers: stats.stateTransfers,
    viewChanges: stats.viewChanges,
    batchesAsked: stats.batchesAsked,
    viewChangesAsked: stats.viewChangesAsked,
    relayed: stats.relayed,
    completedRequests: stats.completed,
  };
}
