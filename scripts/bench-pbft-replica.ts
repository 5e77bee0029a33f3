/**
 * The entry of one bench:pbft validator in its own worker thread (its own event loop, as
 * a validator on its own machine has) or, with `--processes`, in its own child process
 * (its own V8 heap and GC threads as well): one BenchValidator (bench-pbft-validator.ts)
 * answering the benchmark over the thread's port or the process's IPC channel. Every
 * request gets one reply with its id.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { REPLICA_DATA_ENV } from './bench-pbft-clients.ts';
import {
  type BenchMessage,
  type BenchRequest,
  BenchValidator,
  type ReplicaWorkerData,
} from './bench-pbft-validator.ts';

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
const validator = new BenchValidator(data);

channel.on(({ id, req }) => {
  validator.handle(req).then(
    (value) => channel.post({ id, ok: true, value }),
    (err: unknown) => channel.post({ id, ok: false, error: (err as Error)?.stack ?? String(err) }),
  );
});
