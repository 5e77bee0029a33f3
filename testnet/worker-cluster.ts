/**
 * A testnet split over worker threads: `workers` event loops, each running a
 * contiguous slice of the nodes (testnet/cluster-worker.ts), all in this process
 * and connected over loopback TCP like any other nodes. Slices start at the same time;
 * the dials from one slice to the nodes of earlier slices follow once all have started.
 */
import { Worker } from 'node:worker_threads';
import type { LogLevel } from '../node/config/schema.ts';
import type { WorkerMessage, WorkerRequest, WorkerStart } from './cluster-worker.ts';
import type { ClusterHandle, ObservedTransition, RelayTraffic } from './handle.ts';
import type { NodeRow } from './report.ts';
import type { SettingOverrides } from './settings.ts';

export interface WorkerClusterOptions {
  peers: number;
  workers: number;
  root: string;
  api?: boolean;
  apiBasePort?: number;
  degree?: number;
  seed?: number;
  membership?: boolean;
  settings?: SettingOverrides;
  logLevel?: LogLevel;
  onProgress?: (started: number, total: number) => void;
}

class Slice {
  readonly worker: Worker;
  readonly first: number;
  size = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private elu: ReturnType<Worker['performance']['eventLoopUtilization']>;

  constructor(first: number, logLevel: LogLevel, onMessage: (m: WorkerMessage) => void) {
    this.first = first;
    this.worker = new Worker(new URL('./cluster-worker.ts', import.meta.url), { workerData: { logLevel } });
    this.elu = this.worker.performance.eventLoopUtilization();
    this.worker.on('message', (m: WorkerMessage) => {
      if (m.kind !== 'reply') return onMessage(m);
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.ok) p?.resolve(m.value);
      else p?.reject(new Error(m.error));
    });
    this.worker.on('error', (err) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  request<T>(req: WorkerRequest): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, req });
    });
  }

  utilization(): number {
    const now = this.worker.performance.eventLoopUtilization();
    const busy = this.worker.performance.eventLoopUtilization(now, this.elu).utilization;
    this.elu = now;
    return busy;
  }
}

/**
 * Where slice w starts. Earlier nodes carry more connections (every later node dials
 * some earlier ones), so earlier slices get fewer nodes: boundaries at (w / W)^1.25 of
 * the nodes put about 42 % of them in the first of two slices, which evens out the
 * two event loops' load at 200 nodes.
 */
function boundary(w: number, workers: number, peers: number): number {
  return w >= workers ? peers : Math.floor(peers * (w / workers) ** 1.25);
}

export async function startWorkerCluster(opts: WorkerClusterOptions): Promise<ClusterHandle> {
  const workers = Math.max(1, Math.min(opts.workers, opts.peers));
  const listeners = new Set<(t: ObservedTransition) => void>();
  const slices: Slice[] = [];
  const peerIds: string[] = [];
  const addrs: string[] = [];
  const running: boolean[] = [];
  /** Nodes started so far in each slice (they start at the same time). */
  const startedIn: number[] = [];
  const onMessage = (m: WorkerMessage, w: number) => {
    if (m.kind === 'progress') {
      startedIn[w] = m.started;
      opts.onProgress?.(
        startedIn.reduce((a, b) => a + b, 0),
        opts.peers,
      );
    } else if (m.kind === 'suspicion') for (const l of listeners) l(m.transition as ObservedTransition);
  };
  const sliceOf = (index: number): [Slice, number] => {
    for (let s = slices.length - 1; s >= 0; s--) {
      const slice = slices[s] as Slice;
      if (index >= slice.first) return [slice, index - slice.first];
    }
    throw new RangeError(`no node ${index}`);
  };
  const all = async <T>(req: WorkerRequest): Promise<T[]> =>
    (await Promise.all(slices.map((s) => s.request<T[]>(req)))).flat();

  try {
    // Every slice starts its nodes at once, each node dialling the earlier nodes of its own
    // slice; once all have started, they dial their targets in earlier slices, whose
    // addresses are known only then. Sequential slices took twice as long, and each one
    // started on event loops already busy with the heartbeats of the slices before it.
    const starts: Array<Promise<Array<{ peerId: string; addr: string }>>> = [];
    for (let w = 0; w < workers; w++) {
      const first = boundary(w, workers, opts.peers);
      const size = boundary(w + 1, workers, opts.peers) - first;
      const slice = new Slice(first, opts.logLevel ?? 'error', (m) => onMessage(m, w));
      slices.push(slice);
      const start: WorkerStart = {
        firstIndex: first,
        peers: size,
        root: opts.root,
        api: opts.api ?? false,
        apiBasePort: opts.apiBasePort ?? 0,
        degree: opts.degree ?? 6,
        seed: opts.seed ?? 1,
        membership: opts.membership ?? true,
        settings: opts.settings ?? {},
      };
      starts.push(slice.request<Array<{ peerId: string; addr: string }>>({ op: 'start', start }));
    }
    // allSettled: a slice that failed must not leave the others' workers running.
    const settled = await Promise.allSettled(starts);
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
    for (const [w, s] of settled.entries()) {
      const nodes = (s as PromiseFulfilledResult<Array<{ peerId: string; addr: string }>>).value;
      (slices[w] as Slice).size = nodes.length;
      for (const n of nodes) {
        peerIds.push(n.peerId);
        addrs.push(n.addr);
        running.push(true);
      }
    }
    await Promise.all(slices.map((s) => s.request({ op: 'dialEarlierSlices', earlier: addrs })));
  } catch (err) {
    await Promise.allSettled(slices.map((s) => s.request({ op: 'stopAll' })));
    await Promise.allSettled(slices.map((s) => s.worker.terminate()));
    throw err;
  }

  return {
    root: opts.root,
    size: peerIds.length,
    peerId: (i) => peerIds[i] as string,
    isRunning: (i) => running[i] === true,
    activeCounts: () => all<number | null>({ op: 'activeCounts' }),
    statesOf: (peerId) => all<string | undefined | null>({ op: 'statesOf', peerId }),
    onSuspicion: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitForMeshes: async (o) => {
      const results = await Promise.all(
        slices.map((s) => s.request<'formed' | 'timeout' | 'aborted'>({ op: 'waitForMeshes', timeoutMs: o.timeoutMs })),
      );
      if (o.signal?.aborted) return 'aborted';
      return results.every((r) => r === 'formed') ? 'formed' : 'timeout';
    },
    rows: () => all<NodeRow>({ op: 'rows' }),
    relayTraffic: async () => {
      const parts = await Promise.all(slices.map((s) => s.request<RelayTraffic>({ op: 'relayTraffic' })));
      return parts.reduce(
        (a, b) => ({
          framesOut: a.framesOut + b.framesOut,
          heldBack: a.heldBack + b.heldBack,
          accepted: a.accepted + b.accepted,
          duplicate: a.duplicate + b.duplicate,
        }),
        { framesOut: 0, heldBack: 0, accepted: 0, duplicate: 0 },
      );
    },
    eventLoopUtilization: () => slices.map((s) => s.utilization()),
    stop: async (i) => {
      const [slice, local] = sliceOf(i);
      const at = await slice.request<number>({ op: 'stop', index: local });
      running[i] = false;
      return at;
    },
    restart: async (i) => {
      const [slice, local] = sliceOf(i);
      await slice.request({ op: 'restart', index: local });
      running[i] = true;
    },
    stopAll: async () => {
      await Promise.allSettled(slices.map((s) => s.request({ op: 'stopAll' })));
      await Promise.allSettled(slices.map((s) => s.worker.terminate()));
      running.fill(false);
    },
  };
}
