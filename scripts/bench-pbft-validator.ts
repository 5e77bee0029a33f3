/**
 * One validator of `npm run bench:pbft`: a full BizraNode (LevelDB WAL with fsync,
 * /bizra/pbft/1.0.0 streams, timers, its own signature verifier) started from the data
 * dir and validator-set file the benchmark prepared, answering the benchmark's requests
 * (BenchRequest). Validator 0 also runs the benchmark's clients through its node's
 * submit().
 *
 * Where it runs is the handle's choice (bench-pbft-handles.ts): in a worker thread or a
 * child process (scripts/bench-pbft-replica.ts holds one there), or, with `--one-loop`,
 * beside the others in the benchmark's own event loop. The state lives in the instance,
 * so n of them can share one loop.
 */
import { encodeKvOperation } from '../consensus/pbft/kv-app.ts';
import { defaultConfig, type LogLevel } from '../node/config/schema.ts';
import { threadCpuMicros } from '../node/consensus/cpu-slice.ts';
import { initDataDir } from '../node/init.ts';
import { createLogger } from '../node/log.ts';
import { BizraNode } from '../node/node.ts';
import { Ed25519Signer } from '../protocol/crypto/ed25519.ts';
import { signRequest } from '../protocol/pbft/sign.ts';
import { LOW_LOAD_WARMUP, SignedRequests } from './bench-pbft-clients.ts';
import { replicaState, walStats } from './bench-pbft-metrics.ts';

export interface ReplicaWorkerData {
  index: number;
  dataDir: string;
  validatorSet: string;
  verifyWorkers: number;
  batchDelayMs: number;
  viewChangeTimeoutMs: number;
  logLevel: LogLevel;
}

export type BenchRequest =
  | { kind: 'start' }
  | { kind: 'introduce'; peers: { peerId: string; addrs: string[] }[] }
  | { kind: 'streams' }
  | { kind: 'counters' }
  | { kind: 'low'; requests: number }
  | { kind: 'sign'; clients: number; perClient: number }
  | { kind: 'saturate'; seconds: number; warmup: number }
  | { kind: 'stop' };

export interface SaturationResult {
  committed: number;
  /** Requests that did not commit within consensus.requestTimeoutMs (the whole phase, warm-up and drain included). */
  timedOut: number;
  elapsed: number;
  latencies: number[];
  /** Process CPU seconds (every thread) over the measured window. */
  cpuSeconds: number;
  walMeanSeconds: number;
  /** Batches and requests this replica executed in the measured window. */
  batches: number;
  executedRequests: number;
}

export type BenchMessage = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** Ed25519 checks this replica ran and requests it executed so far: their ratio shows every replica checks every request. */
export interface ReplicaCounters {
  verifications: number;
  executed: number;
  /** CPU seconds of this replica's own thread (its event loop; not its verify workers; shared in one loop). */
  threadCpuSeconds: number;
  /** CPU seconds of this replica's whole process (every thread: with worker threads or one loop, that is every replica's). */
  processCpuSeconds: number;
  /** The replica's view: above 0, the primary was replaced (a view change under load). */
  view: number;
  /** PBFT inputs it refused as already held or no longer needed: retransmissions it did not need. */
  redundant: number;
  /** Its bound on batches in flight, and whether it is the primary of its view (replica-pipeline.ts). */
  pipelineWindow: number;
  primary: boolean;
}

const threadCpuSeconds = (): number => threadCpuMicros() / 1e6;
const processCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export class BenchValidator {
  readonly #data: ReplicaWorkerData;
  #node: BizraNode | null = null;
  /** Batches and requests executed here, counted only while `counting`. */
  readonly #executed = { counting: false, batches: 0, requests: 0 };
  /** Requests executed here over the whole run. */
  #executedTotal = 0;
  /** Each saturation client's requests, signed by `sign` before the clock starts (a client signs on its own machine). */
  #pools: SignedRequests[] = [];
  /**
   * Each client's next request in its pool. A window (`saturate`) goes on from where the
   * one before stopped: a client that sent its pool from the start again would send
   * timestamps its replicas already executed, which they drop (exactly-once).
   */
  #cursors: number[] = [];

  constructor(data: ReplicaWorkerData) {
    this.#data = data;
  }

  /** Answers one request of the benchmark; rejects with what went wrong. */
  async handle(req: BenchRequest): Promise<unknown> {
    switch (req.kind) {
      case 'start':
        return this.#start();
      case 'introduce':
        return this.#introduce(req.peers);
      case 'streams':
        return this.#running.consensus!.streams();
      case 'counters':
        return this.#counters();
      case 'low':
        return this.#low(req.requests);
      case 'sign':
        this.#sign(req.clients, req.perClient);
        return null;
      case 'saturate':
        return this.#saturate(req.seconds, req.warmup);
      case 'stop':
        return this.#stop();
    }
  }

  get #running(): BizraNode {
    if (this.#node === null) throw new Error(`validator ${this.#data.index} is not running`);
    return this.#node;
  }

  async #start(): Promise<{ peerId: string; addrs: string[] }> {
    const data = this.#data;
    const config = defaultConfig();
    config.profile = 'testnet';
    config.p2p.listen = ['/ip4/127.0.0.1/tcp/0'];
    config.p2p.dht = false;
    config.api.enabled = false;
    config.membership.enabled = false;
    config.consensus.validatorSet = data.validatorSet;
    config.consensus.requestTimeoutMs = 60_000;
    config.consensus.verifyWorkers = data.verifyWorkers;
    config.consensus.batchDelayMs = data.batchDelayMs;
    config.consensus.viewChangeTimeoutMs = data.viewChangeTimeoutMs;
    const { identity } = await initDataDir(data.dataDir);
    const logger = createLogger({ level: data.logLevel, format: 'json', destination: process.stderr });
    const node = await BizraNode.create(
      { config, dataDir: data.dataDir, processMetrics: false, probeGpu: false },
      { identity, logger: logger.child({ node: data.index }) },
    );
    this.#node = node;
    await node.start();
    node.consensus!.onCommitted((c) => {
      this.#executedTotal += c.requests.length;
      if (!this.#executed.counting) return;
      this.#executed.batches++;
      this.#executed.requests += c.requests.length;
    });
    return { peerId: node.peerId.toString(), addrs: node.host.getMultiaddrs().map((a) => a.toString()) };
  }

  async #introduce(peers: { peerId: string; addrs: string[] }[]): Promise<void> {
    const { multiaddr } = await import('@multiformats/multiaddr');
    const { peerIdFromString } = await import('@libp2p/peer-id');
    const self = this.#running;
    await Promise.all(
      peers
        .filter((p) => p.peerId !== self.peerId.toString())
        .map((p) =>
          self.host.peerStore.merge(peerIdFromString(p.peerId), { multiaddrs: p.addrs.map((a) => multiaddr(a)) }),
        ),
    );
  }

  async #counters(): Promise<ReplicaCounters> {
    const node = this.#running;
    return {
      verifications: node.consensus!.verifications,
      executed: this.#executedTotal,
      threadCpuSeconds: threadCpuSeconds(),
      processCpuSeconds: processCpuSeconds(),
      ...(await replicaState(node)),
    };
  }

  async #low(requests: number): Promise<number[]> {
    const service = this.#running.consensus!;
    const client = Ed25519Signer.fromSeed(new Uint8Array(32).fill(1));
    const out: number[] = [];
    for (let i = 1; i <= requests; i++) {
      const r = signRequest(client, i, encodeKvOperation({ op: 'put', key: `low${i}`, value: 'x' }));
      const t = performance.now();
      const a = await service.submit(r);
      if (!a.ok) throw new Error(`low-load request failed: ${a.code} ${a.message}`);
      if (i > LOW_LOAD_WARMUP) out.push(performance.now() - t);
    }
    return out;
  }

  #sign(clients: number, perClient: number): void {
    this.#pools = [];
    this.#cursors = new Array<number>(clients).fill(0);
    for (let c = 0; c < clients; c++) this.#pools.push(SignedRequests.sign(c, perClient));
  }

  async #saturate(seconds: number, warmup: number): Promise<SaturationResult> {
    const self = this.#running;
    const service = self.consensus!;
    const executed = this.#executed;
    const pools = this.#pools;
    const cursors = this.#cursors;
    const latencies: number[] = [];
    let committed = 0;
    let timedOut = 0;
    let measuring = false;
    let stop = false;
    const walBefore = await walStats(self);
    executed.batches = 0;
    executed.requests = 0;
    const client = async (c: number) => {
      const pool = pools[c]!;
      while (!stop && cursors[c]! < pool.length) {
        const r = pool.request(cursors[c]!++);
        const t = performance.now();
        const a = await service.submit(r);
        if (!a.ok && a.code === 'COMMIT_TIMEOUT') {
          // Overload (a view change, say): counted, and the client goes on with its next request.
          timedOut++;
          continue;
        }
        if (!a.ok) throw new Error(`request failed: ${a.code} ${a.message}`);
        if (measuring) {
          committed++;
          latencies.push(performance.now() - t);
        }
      }
    };
    const running = Promise.all(pools.map((_, c) => client(c)));
    await new Promise((r) => setTimeout(r, warmup * 1000));
    measuring = true;
    executed.counting = true;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    measuring = false;
    executed.counting = false;
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    stop = true;
    await running;
    const walAfter = await walStats(self);
    return {
      committed,
      timedOut,
      elapsed,
      latencies,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      walMeanSeconds:
        walAfter.count > walBefore.count ? (walAfter.sum - walBefore.sum) / (walAfter.count - walBefore.count) : 0,
      batches: executed.batches,
      executedRequests: executed.requests,
    };
  }

  async #stop(): Promise<null> {
    const node = this.#node;
    this.#node = null;
    await node?.stop();
    return null;
  }
}
