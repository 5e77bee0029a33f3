/**
 * bench:pbft's request/answer channels to its validators: one in a worker thread
 * (scripts/bench-pbft-replica.ts as a Worker), in a child process (`--processes`), or in
 * the benchmark's own event loop beside the others (`--one-loop`).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { REPLICA_DATA_ENV } from './bench-pbft-clients.ts';
import {
  type BenchMessage,
  type BenchRequest,
  BenchValidator,
  type ReplicaWorkerData,
} from './bench-pbft-validator.ts';

/** A request/answer channel to one validator, in a worker thread, a child process or this event loop. */
export abstract class ReplicaHandle {
  #next = 1;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #exited: Error | null = null;
  protected readonly index: number;

  constructor(index: number) {
    this.index = index;
  }

  protected answer(m: BenchMessage): void {
    const p = this.#pending.get(m.id);
    this.#pending.delete(m.id);
    if (m.ok) p?.resolve(m.value);
    else p?.reject(new Error(`replica ${this.index}: ${m.error}`));
  }

  protected fail(err: Error): void {
    this.#exited ??= err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  protected abstract post(m: { id: number; req: BenchRequest }): void;
  abstract terminate(): Promise<void>;

  request<T>(req: BenchRequest): Promise<T> {
    if (this.#exited) return Promise.reject(this.#exited);
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.post({ id, req });
    });
  }
}

const replicaScript = new URL('./bench-pbft-replica.ts', import.meta.url);

export class ReplicaThread extends ReplicaHandle {
  readonly worker: Worker;

  constructor(data: ReplicaWorkerData) {
    super(data.index);
    this.worker = new Worker(replicaScript, { workerData: data });
    this.worker.on('message', (m: BenchMessage) => this.answer(m));
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => this.fail(new Error(`replica ${data.index}: worker exited with code ${code}`)));
  }

  protected post(m: { id: number; req: BenchRequest }): void {
    this.worker.postMessage(m);
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * A validator in its own child process: its own V8 heap and GC threads, as on its own
 * machine (sixteen isolates in one process share one set of GC threads). It inherits
 * this process's V8 flags (the fixed semi-space of `npm run bench:pbft`).
 */
export class ReplicaProcess extends ReplicaHandle {
  readonly #child: ChildProcess;

  constructor(data: ReplicaWorkerData) {
    super(data.index);
    this.#child = fork(fileURLToPath(replicaScript), [], {
      env: { ...process.env, [REPLICA_DATA_ENV]: JSON.stringify(data) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child.on('message', (m) => this.answer(m as BenchMessage));
    this.#child.on('error', (e) => this.fail(e));
    this.#child.on('exit', (code, signal) =>
      this.fail(new Error(`replica ${data.index}: process exited with ${code ?? signal}`)),
    );
  }

  protected post(m: { id: number; req: BenchRequest }): void {
    this.#child.send(m);
  }

  async terminate(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((r) => this.#child.once('exit', r));
    this.#child.kill('SIGKILL');
    await exited;
  }
}

/**
 * A validator in this event loop, beside the benchmark's other validators (`--one-loop`):
 * one V8 heap and one JIT for all of them, each with its own node, WAL, streams, verifier
 * and verify workers. Its requests are answered asynchronously, as over a channel.
 */
export class ReplicaInLoop extends ReplicaHandle {
  readonly #validator: BenchValidator;

  constructor(data: ReplicaWorkerData) {
    super(data.index);
    this.#validator = new BenchValidator(data);
  }

  protected post(m: { id: number; req: BenchRequest }): void {
    this.#validator.handle(m.req).then(
      (value) => this.answer({ id: m.id, ok: true, value }),
      (err: unknown) => this.answer({ id: m.id, ok: false, error: (err as Error)?.stack ?? String(err) }),
    );
  }

  /** Stopping is the 'stop' request's work; nothing else runs. */
  async terminate(): Promise<void> {}
}
