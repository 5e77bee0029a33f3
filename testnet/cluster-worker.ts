/**
 * One worker thread of a split testnet (testnet/worker-cluster.ts): runs a slice of
 * the nodes, global indices [firstIndex, firstIndex + peers), in its own event loop,
 * and answers the coordinator's requests by message. Node indices in requests are
 * local to the slice.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { LogLevel } from '../node/config/schema.ts';
import { createLogger } from '../node/log.ts';
import { type Cluster, type ClusterOptions, startCluster } from './cluster.ts';
import { absoluteNow, relayTrafficOf, SuspicionFeed } from './handle.ts';
import { waitForMeshes } from './mesh.ts';
import { nodeRow } from './report.ts';
import { applySettings, type SettingOverrides } from './settings.ts';

export interface WorkerStart {
  firstIndex: number;
  peers: number;
  root: string;
  api: boolean;
  apiBasePort: number;
  degree: number;
  seed: number;
  membership: boolean;
  settings: SettingOverrides;
}

export type WorkerRequest =
  | { op: 'start'; start: WorkerStart }
  | { op: 'activeCounts' }
  | { op: 'statesOf'; peerId: string }
  | { op: 'waitForMeshes'; timeoutMs: number }
  | { op: 'rows' }
  | { op: 'relayTraffic' }
  | { op: 'dialEarlierSlices'; earlier: string[] }
  | { op: 'stop'; index: number }
  | { op: 'restart'; index: number }
  | { op: 'stopAll' };

export type WorkerMessage =
  | { kind: 'reply'; id: number; ok: true; value: unknown }
  | { kind: 'reply'; id: number; ok: false; error: string }
  | { kind: 'progress'; started: number }
  | { kind: 'suspicion'; transition: unknown };

function post(message: WorkerMessage): void {
  parentPort?.postMessage(message);
}

async function serve(): Promise<void> {
  const { logLevel } = workerData as { logLevel: LogLevel };
  const logger = createLogger({ level: logLevel, format: 'json', destination: process.stderr });
  const feed = new SuspicionFeed();
  let cluster: Cluster | undefined;
  let first = 0;
  const nodes = () => cluster?.nodes ?? [];

  const handle = async (req: WorkerRequest): Promise<unknown> => {
    switch (req.op) {
      case 'start': {
        const s = req.start;
        first = s.firstIndex;
        const opts: ClusterOptions = {
          peers: s.peers,
          root: s.root,
          api: s.api,
          apiBasePort: s.apiBasePort,
          degree: s.degree,
          seed: s.seed + s.firstIndex,
          membership: s.membership,
          firstIndex: s.firstIndex,
          tune: (config) => applySettings(config, s.settings),
          onProgress: (started) => post({ kind: 'progress', started }),
        };
        cluster = await startCluster(opts, { logger });
        for (const [i, n] of cluster.nodes.entries()) feed.watch(n, first + i);
        feed.subscribe((t) => post({ kind: 'suspicion', transition: t }));
        return cluster.nodes.map((n) => ({
          peerId: n.peerId.toString(),
          addr: n.host.getMultiaddrs()[0]?.toString() ?? '',
        }));
      }
      case 'activeCounts':
        return nodes().map((n) => (n.running ? n.membership.view.counts().ACTIVE : null));
      case 'statesOf':
        return nodes().map((n) => (n.running ? n.membership.view.get(req.peerId)?.state : null));
      case 'waitForMeshes':
        return waitForMeshes(nodes(), { timeoutMs: req.timeoutMs });
      case 'rows':
        return nodes().map((n, i) => nodeRow(n, first + i));
      case 'relayTraffic':
        return relayTrafficOf(nodes());
      case 'dialEarlierSlices':
        await cluster?.dialEarlierSlices(req.earlier);
        return null;
      case 'stop': {
        const at = absoluteNow();
        await nodes()[req.index]?.stop();
        return at;
      }
      case 'restart': {
        if (!cluster) throw new Error('not started');
        feed.watch(await cluster.restart(req.index), first + req.index);
        return null;
      }
      case 'stopAll':
        await cluster?.stop();
        return null;
    }
  };

  parentPort?.on('message', (msg: { id: number; req: WorkerRequest }) => {
    handle(msg.req).then(
      (value) => post({ kind: 'reply', id: msg.id, ok: true, value }),
      (err: unknown) => post({ kind: 'reply', id: msg.id, ok: false, error: (err as Error)?.message ?? String(err) }),
    );
  });
}

if (!isMainThread) await serve();
