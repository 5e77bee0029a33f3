/**
 * One validator of `npm run bench:pbft` in its own worker thread (its own event loop, as
 * a validator on its own machine has) or, with `--processes`, in its own child process
 * (its own V8 heap and GC threads as well): a full BizraNode (LevelDB WAL with fsync,
 * /bizra/pbft/1.0.0 streams, timers, its own signature verifier) started from the data
 * dir and validator-set file the main thread prepared. Replica 0 also runs the
 * benchmark's clients through its node's submit(), as the one-loop mode does.
 *
 * Messages in (BenchRequest) and out (BenchMessage) are below; every request gets one
 * reply with its id.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { encodeKvOperation } from '../consensus/pbft/kv-app.ts';
import { defaultConfig, type LogLevel } from '../node/config/schema.ts';
import { threadCpuMicros } from '../node/consensus/cpu-slice.ts';
import { initDataDir } from '../node/init.ts';
import { createLogger } from '../node/log.ts';
import { BizraNode } from '../node/node.ts';
import { Ed25519Signer } from '../protocol/crypto/ed25519.ts';
import { signRequest } from '../protocol/pbft/sign.ts';
import type { PbftRequest } from '../protocol/pbft/types.ts';
import { LOW_LOAD_WARMUP, REPLICA_DATA_ENV, saturationClient } from './bench-pbft-clients.ts';
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

/** The request/answer channel to the benchmark: a worker's parentPort, or a child process's IPC channel. */
interface Channel {
  on(listener: (m: { id: number; req: BenchRequest }) => void): void;
  post(m: BenchMessage): void;
}

function channelAndData(): { channel: Channel; data: ReplicaWorkerData } {
  if (parentPort !== null) {
    const p = parentPort;
    return { channel: { on: (l) => p.on('message', l), post: (m) => p.postMessage(m) }, data: workerData };
  }
  const json = process.env[REPLICA_DATA_ENV];
  if (process.send === undefined || json === undefined) {
    throw new Error('bench-pbft-replica.ts runs only as a worker thread or child process of scripts/bench-pbft.ts');
  }
  const send = process.send.bind(process);
  return { channel: { on: (l) => process.on('message', l), post: (m) => send(m) }, data: JSON.parse(json) };
}

const { channel, data } = channelAndData();
let node: BizraNode | null = null;
/** Batches and requests executed here, counted only while `counting`. */
const executed = { counting: false, batches: 0, requests: 0 };
/** Requests executed here over the whole run. */
let executedTotal = 0;

/** Ed25519 checks this replica ran and requests it executed so far: their ratio shows every replica checks every request. */
export interface ReplicaCounters {
  verifications: number;
  executed: number;
  /** CPU seconds of this replica's own thread (its event loop; not its verify workers). */
  threadCpuSeconds: number;
  /** CPU seconds of this replica's whole process (every thread: with worker threads, that is every replica's). */
  processCpuSeconds: number;
  /** The replica's view: above 0, the primary was replaced (a view change under load). */
  view: number;
  /** PBFT inputs it refused as already held or no longer needed: retransmissions it did not need. */
  redundant: number;
  /** Its bound on batches in flight, and whether it is the primary of its view (replica-pipeline.ts). */
  pipelineWindow: number;
  primary: boolean;
}

async function start(): Promise<{ peerId: string; addrs: string[] }> {
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
  node = await BizraNode.create(
    { config, dataDir: data.dataDir, processMetrics: false, probeGpu: false },
    { identity, logger: logger.child({ node: data.index }) },
  );
  await node.start();
  node.consensus!.onCommitted((c) => {
    executedTotal += c.requests.length;
    if (!executed.counting) return;
    executed.batches++;
    executed.requests += c.requests.length;
  });
  return { peerId: node.peerId.toString(), addrs: node.host.getMultiaddrs().map((a) => a.toString()) };
}

async function introduce(peers: { peerId: string; addrs: string[] }[]): Promise<void> {
  const { multiaddr } = await import('@multiformats/multiaddr');
  const { peerIdFromString } = await import('@libp2p/peer-id');
  const self = node!;
  await Promise.all(
    peers
      .filter((p) => p.peerId !== self.peerId.toString())
      .map((p) =>
        self.host.peerStore.merge(peerIdFromString(p.peerId), { multiaddrs: p.addrs.map((a) => multiaddr(a)) }),
      ),
  );
}

async function low(requests: number): Promise<number[]> {
  const service = node!.consensus!;
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

/** Each saturation client's requests, signed by `sign` before the clock starts (a client signs on its own machine). */
let pools: PbftRequest[][] = [];
/**
 * Each client's next request in its pool. A window (`saturate`) goes on from where the
 * one before stopped: a client that sent its pool from the start again would send
 * timestamps its replicas already executed, which they drop (exactly-once).
 */
let cursors: number[] = [];

function sign(clients: number, perClient: number): void {
  pools = [];
  cursors = new Array<number>(clients).fill(0);
  for (let c = 0; c < clients; c++) {
    const signer = saturationClient(c);
    const pool: PbftRequest[] = [];
    for (let i = 1; i <= perClient; i++) {
      pool.push(signRequest(signer, i, encodeKvOperation({ op: 'put', key: `c${c}`, value: String(i) })));
    }
    pools.push(pool);
  }
}

async function saturate(seconds: number, warmup: number): Promise<SaturationResult> {
  const self = node!;
  const service = self.consensus!;
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
      const r = pool[cursors[c]!++]!;
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

const threadCpuSeconds = (): number => threadCpuMicros() / 1e6;
const processCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function handle(req: BenchRequest): Promise<unknown> {
  switch (req.kind) {
    case 'start':
      return start();
    case 'introduce':
      return introduce(req.peers);
    case 'streams':
      return node!.consensus!.streams();
    case 'counters':
      return {
        verifications: node!.consensus!.verifications,
        executed: executedTotal,
        threadCpuSeconds: threadCpuSeconds(),
        processCpuSeconds: processCpuSeconds(),
        ...(await replicaState(node!)),
      } satisfies ReplicaCounters;
    case 'low':
      return low(req.requests);
    case 'sign':
      sign(req.clients, req.perClient);
      return null;
    case 'saturate':
      return saturate(req.seconds, req.warmup);
    case 'stop':
      await node?.stop();
      node = null;
      return null;
  }
}

channel.on(({ id, req }) => {
  handle(req).then(
    (value) => channel.post({ id, ok: true, value }),
    (err: unknown) => channel.post({ id, ok: false, error: (err as Error)?.stack ?? String(err) }),
  );
});
