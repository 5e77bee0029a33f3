/**
 * The I/O shell around the pure PBFT replica (consensus/pbft): it feeds the replica
 * frames from the transport, client requests from the HTTP API and timer firings, and
 * carries out what every call returns, in the order consensus/pbft/output.ts asks:
 *
 *   1. `persist`: appended to the LevelDB WAL as one atomic batch with fsync;
 *   2. only then `send`, `replies` and `committed` (the HTTP answers);
 *   `timers` are set at once (a firing only produces another output, which waits its
 *   turn), and `events` are counted at once.
 *
 * Group commit: while one WAL write is in flight, later outputs queue behind it; their
 * records go to disk together in the next batch, and their messages leave, in order,
 * once that batch is durable. An output with nothing to persist and nothing queued ahead
 * of it is carried out at once. A WAL write that fails stops the replica (fail-stop):
 * nothing that depends on it may leave, and the node keeps serving everything else.
 *
 * Time slices: without a pool, the signature checks run on the event loop, and a
 * proposal's batch alone is a few hundred of them (~50 ms on a slow core). Inputs are
 * therefore handed to the replica in slices of at most SLICE_CPU_MICROS, and a proposal's request
 * signatures are checked ahead (into the verifier's cache) in slices too, with I/O let
 * through between slices: WAL completions, whose messages are waiting to leave, and
 * frames from peers. Otherwise a burst (a batch's clients all sending their next request
 * at once, a proposal arriving) held every fsync'd message back until it was done, and
 * the replicas took turns instead of working at the same time.
 *
 * View changes go first: a VIEW-CHANGE or NEW-VIEW waits only for the input being
 * handed over, not for the queue (the replica takes its inputs in any order, as the
 * network may deliver them in any). Under overload (n = 16 on 2 cores, 1,024 clients) the
 * queue held seconds of proposals and votes, and NEW-VIEWs waited in it past the next
 * view-change timeout: views changed again and again while nothing committed. For the
 * same reason a proposal's batch is checked ahead only while it is for the replica's
 * current view and the view is active: otherwise the replica refuses it unchecked.
 *
 * Signature checks off the event loop (`verifyWorkers` > 0): every input that carries
 * signatures (a client request, a proposal's PRE-PREPARE and each request of its batch,
 * a vote, a checkpoint, a status) has them checked by a SignaturePool first; the valid
 * ones are remembered by the replica's verifier, whose own check then hits its cache.
 * Inputs still reach the replica one at a time in arrival order (a FIFO that waits for
 * the check of its head), except VIEW-CHANGEs and NEW-VIEWs, which go first (above). An
 * invalid signature, or a pool that failed, just leaves the replica to check (and
 * refuse) it itself, so the pool changes what the event loop spends, never what is
 * accepted.
 *
 * Clients: `submit` hands a signed REQUEST to this node's replica and resolves once this
 * replica has executed it (the batch committed-local here with a quorum of COMMITs, so
 * every correct replica executes the same result at the same sequence number) and its
 * WAL record is durable, with the result, sequence number, view and this replica's
 * signed REPLY; or on timeout. A client that does not trust this one node can submit the
 * same signed request to f + 1 validators and compare (the REPLY signatures let it).
 */

import type { PbftApp } from '../../consensus/pbft/app.ts';
import { KvApp } from '../../consensus/pbft/kv-app.ts';
import { defaultPbftOptions, type PbftOptions } from '../../consensus/pbft/options.ts';
import type { PbftClientReply, PbftCommitted, PbftOutput, PbftTimer } from '../../consensus/pbft/output.ts';
import { PbftReplica, type PbftReplicaStatus } from '../../consensus/pbft/replica.ts';
import {
  broadcastsNow,
  isDue,
  RETRANSMIT_TICK_MS,
  type RetransmitState,
  restartedInNewView,
  retransmitSchedule,
  retransmitted,
} from '../../consensus/pbft/retransmit.ts';
import type { Ed25519Signer } from '../../protocol/crypto/ed25519.ts';
import { decodePbftMessage, encodePbftMessage } from '../../protocol/pbft/codec.ts';
import type {
  PbftMessage,
  PbftReply,
  PbftReplyProof,
  PbftRequest,
  PbftSignedMessage,
} from '../../protocol/pbft/types.ts';
import { PbftVerifier } from '../../protocol/pbft/verifier.ts';
import type { Logger } from '../log.ts';
import type { NodeMetrics } from '../metrics/node-metrics.ts';
import type { Host } from '../p2p/host.ts';
import type { Store } from '../store/store.ts';
import { CpuSlice } from './cpu-slice.ts';
import { PbftTransport, type PbftTransportOptions } from './pbft-transport.ts';
import { PbftLevelWal } from './pbft-wal.ts';
import { SignaturePool } from './signature-pool.ts';
import { faultTolerance, indexOfKey, type ValidatorSetFile, validatorSetIdentity } from './validator-set.ts';

export interface ConsensusServiceOptions {
  /** How long submit() waits for the request to execute. */
  requestTimeoutMs: number;
  /** Local replica timing; the shared params come from the validator set. */
  replica: Partial<
    Pick<PbftOptions, 'batchDelayMs' | 'viewChangeTimeoutMs' | 'maxBatchesInFlight' | 'statusIntervalMs'>
  >;
  transport?: Partial<PbftTransportOptions>;
  /** Worker threads checking signatures (0: on the event loop, in the replica). */
  verifyWorkers?: number;
}

export interface ConsensusServiceModules {
  host: Host;
  store: Store;
  logger: Logger;
  metrics: NodeMetrics;
  /** The node key: this validator's signing key. */
  signer: Ed25519Signer;
  validatorSet: ValidatorSetFile;
  /** Makes the application in its initial state (called once per start). Default: the key-value app. */
  app?: () => PbftApp;
  /** Signature checks; an in-process testnet may share one (its cache is sound to share). */
  verifier?: PbftVerifier;
  /** Monotonic milliseconds for the replica's timers. Default performance.now(). */
  now?: () => number;
}

export type SubmitAnswer =
  | {
      readonly ok: true;
      /** The sequence number it executed at; null for a retransmission of a request executed before this node remembers. */
      readonly seq: number | null;
      readonly view: number;
      readonly result: Uint8Array;
      /**
       * This replica's REPLY: its index, and its signature of the root of the batch's
       * reply tree that `proof` folds the REPLY's leaf (client, timestamp, result) to.
       */
      readonly replica: number;
      readonly proof: PbftReplyProof;
      readonly signature: Uint8Array;
    }
  | { readonly ok: false; readonly status: number; readonly code: string; readonly message: string };

interface Waiter {
  readonly request: PbftRequest;
  readonly client: string;
  readonly timestamp: number;
  readonly startedAt: number;
  readonly resolve: (a: SubmitAnswer) => void;
  readonly timer: NodeJS.Timeout;
  /** When it is next handed to the replica again (retransmit.ts). */
  readonly retransmit: RetransmitState;
}

/**
 * The most CPU time (this thread's, in microseconds) spent handing inputs to the replica
 * before I/O callbacks get their turn (see the header): about 15 Ed25519 checks on a slow
 * core, against ~1 ms for an fsync. This thread's CPU time, not wall time: a validator
 * sharing its cores with many others (16 replicas of a testnet on 2 cores) is descheduled
 * for most of any wall-clock slice, and slices of a few checks each cost it a quarter of
 * its throughput.
 */
const SLICE_CPU_MICROS = 3000;

/** Resolves after the I/O callbacks that are ready have run (setImmediate runs after the poll phase). */
const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

/** Reject reasons of a client request and the HTTP answer each gets. */
const REQUEST_REJECTS: Record<string, { status: number; code: string }> = {
  malformed: { status: 400, code: 'MALFORMED_REQUEST' },
  'bad-signature': { status: 400, code: 'BAD_SIGNATURE' },
  'stale-request': { status: 409, code: 'STALE_REQUEST' },
  overloaded: { status: 503, code: 'OVERLOADED' },
};

export type CommittedListener = (c: PbftCommitted) => void;

export class ConsensusService {
  readonly set: ValidatorSetFile;
  /** This node's replica index, or -1 when its key is not in the set. */
  readonly index: number;
  readonly opts: ConsensusServiceOptions;
  readonly #m: ConsensusServiceModules;
  readonly #now: () => number;
  readonly #verifier: PbftVerifier;
  #replica: PbftReplica | null = null;
  #wal: PbftLevelWal | null = null;
  #transport: PbftTransport | null = null;
  #running = false;
  #failed: Error | null = null;
  /** Outputs waiting for the WAL write ahead of them, and their records. */
  #queue: PbftOutput[] = [];
  #writing: Promise<void> | null = null;
  readonly #timers = new Map<PbftTimer, { handle: NodeJS.Timeout; atMs: number }>();
  /**
   * HTTP clients waiting, by client key (hex), in the order they came: one request each,
   * mostly (a client has one outstanding), rarely a few (other timestamps, or the same
   * request submitted twice). A list, not a map by timestamp: a map made and dropped per
   * request showed in the allocation profile of a saturated primary.
   */
  readonly #waiters = new Map<string, Waiter[]>();
  readonly #listeners = new Set<CommittedListener>();
  #retransmitTimer: NodeJS.Timeout | undefined;
  #pool: SignaturePool | null = null;
  /** Inputs waiting for their turn (a slice) or their signature checks, in arrival order. */
  #inbox: { ready: Promise<unknown> | null; run: () => void; atMs: number }[] = [];
  /** VIEW-CHANGEs, NEW-VIEWs and STATUSes asking for VIEW-CHANGEs waiting: handed over before anything in #inbox. */
  #urgent: (() => void)[] = [];
  /** Wakes a pump that waits for the checks of the inbox's head when an urgent input arrives. */
  #wakePump: (() => void) | null = null;
  #pumping = false;
  /** A batch timer that fired while inputs were queued: it fires once they are handed over. */
  #heldBatchTimer: number | null = null;
  /** A STATUS timer that fired while the inbox was backlogged (see #backlogged). */
  #heldStatusTimer: number | null = null;
  /** This thread's CPU time when the current slice of input handling began (null: none is running). */
  readonly #slice = new CpuSlice(SLICE_CPU_MICROS);
  #sliceRunning = false;

  constructor(opts: ConsensusServiceOptions, modules: ConsensusServiceModules) {
    this.opts = opts;
    this.#m = modules;
    this.set = modules.validatorSet;
    this.index = indexOfKey(modules.validatorSet, modules.signer.publicKey);
    this.#now = modules.now ?? (() => performance.now());
    this.#verifier = modules.verifier ?? new PbftVerifier();
  }

  get isValidator(): boolean {
    return this.index >= 0;
  }

  get running(): boolean {
    return this.#running;
  }

  /** The replica (for tests and status); null before start or on a non-validator. */
  get replica(): PbftReplica | null {
    return this.#replica;
  }

  /** The replica's signature checks (their cache and count, for tests and benchmarks). */
  get verifier(): PbftVerifier {
    return this.#verifier;
  }

  /**
   * Ed25519 checks run for this replica: by its verifier on the event loop plus those
   * its signature pool ran (for benchmarks: every replica must check every request).
   */
  get verifications(): number {
    return this.#verifier.verifications + (this.#pool?.verifications ?? 0);
  }

  /** Why the replica stopped (a WAL write failed), or null. */
  get failure(): Error | null {
    return this.#failed;
  }

  /**
   * Opens the WAL, rebuilds the replica from it (a fresh one on an empty log), starts the
   * transport and the replica. A non-validator starts nothing.
   */
  async start(): Promise<void> {
    if (!this.isValidator) {
      this.#m.logger.info({ chainId: this.set.chainId }, 'this node is not in the validator set; no PBFT replica');
      return;
    }
    const { wal, records } = await PbftLevelWal.open(this.#m.store, validatorSetIdentity(this.set));
    this.#wal = wal;
    const config = { validators: this.set.validators.map((v) => v.publicKey), id: this.index };
    const opts: Partial<PbftOptions> = { ...this.set.params, ...this.opts.replica };
    const modules = { signer: this.#m.signer, app: (this.#m.app ?? (() => new KvApp()))(), verifier: this.#verifier };
    this.#replica =
      records.length > 0 ? PbftReplica.recover(config, opts, modules, records) : new PbftReplica(config, opts, modules);
    if (records.length > 0) {
      this.#m.logger.info(
        { records: records.length, view: this.#replica.view, lastExecuted: this.#replica.lastExecuted },
        'recovered the PBFT replica from its write-ahead log',
      );
    }
    const workers = this.opts.verifyWorkers ?? 0;
    if (workers > 0) this.#pool = await SignaturePool.create(workers);
    this.#transport = new PbftTransport(this.opts.transport ?? {}, {
      host: this.#m.host,
      logger: this.#m.logger,
      validators: this.set.validators,
      self: this.index,
      onFrame: (from, frame) => this.receiveFrame(from, frame),
    });
    this.#running = true;
    this.#updateGauges();
    await this.#transport.start();
    this.#handle(this.#replica.start(this.#now()));
    this.#retransmitTimer = setInterval(() => this.#retransmit(false), RETRANSMIT_TICK_MS);
    this.#retransmitTimer.unref();
    const { n, f } = faultTolerance(this.set);
    this.#m.logger.info(
      { chainId: this.set.chainId, replica: this.index, n, f, view: this.#replica.view },
      'PBFT replica started',
    );
  }

  /**
   * Stops taking input, answers waiting clients 503, waits for the WAL write in flight
   * (what it holds is then on disk) and closes the streams.
   */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearInterval(this.#retransmitTimer);
    for (const t of this.#timers.values()) clearTimeout(t.handle);
    this.#timers.clear();
    for (const list of this.#waiters.values()) {
      for (const w of list) {
        clearTimeout(w.timer);
        w.resolve({ ok: false, status: 503, code: 'SHUTTING_DOWN', message: 'the node is shutting down' });
      }
    }
    this.#waiters.clear();
    this.#inbox = [];
    this.#urgent = [];
    await this.#writing?.catch(() => undefined);
    await this.#transport?.stop();
    await this.#pool?.close();
    this.#pool = null;
  }

  /** Called with every batch this replica executes, after its WAL record is durable. */
  onCommitted(listener: CommittedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  status(): PbftReplicaStatus | null {
    return this.#replica?.status() ?? null;
  }

  /** Validators this node has an open stream to. */
  streams(): number {
    return this.#transport?.connected() ?? 0;
  }

  /** Hands a client's signed REQUEST to this replica and waits for its execution here. */
  submit(request: PbftRequest, timeoutMs = this.opts.requestTimeoutMs): Promise<SubmitAnswer> {
    if (!this.isValidator) {
      return Promise.resolve({
        ok: false,
        status: 503,
        code: 'NOT_A_VALIDATOR',
        message: `this node is not a validator of ${this.set.chainId}; submit to one of its ${this.set.validators.length} validators`,
      });
    }
    const replica = this.#replica;
    if (!this.#running || replica === null || this.#failed !== null) {
      return Promise.resolve({
        ok: false,
        status: 503,
        code: 'CONSENSUS_UNAVAILABLE',
        message: this.#failed ? `the PBFT replica stopped: ${this.#failed.message}` : 'the PBFT replica is not running',
      });
    }
    const client = hex(request.client);
    return new Promise<SubmitAnswer>((resolve) => {
      // Registered before the replica sees the request: a retransmission of an executed
      // one is answered within the same call.
      const w: Waiter = {
        request,
        client,
        timestamp: request.timestamp,
        startedAt: this.#now(),
        retransmit: retransmitSchedule(this.#now()),
        resolve,
        timer: setTimeout(() => {
          this.#removeWaiter(w);
          resolve({
            ok: false,
            status: 504,
            code: 'COMMIT_TIMEOUT',
            message: `the request did not commit within ${timeoutMs} ms; it may still commit: submit the same signed request again to get its result`,
          });
        }, timeoutMs),
      };
      w.timer.unref();
      this.#addWaiter(w);
      this.#enqueue(request, () => this.#receiveRequest(w, replica));
    });
  }

  #receiveRequest(w: Waiter, replica: PbftReplica): void {
    // The node may have stopped or failed while the signature was checked: the waiter
    // has its answer then.
    if (!this.#running || this.#failed !== null) return;
    // A replica that has left its view has no primary to forward to: it relays its own
    // clients' requests to every replica (onRelay in replica-normal-case.ts).
    const out = replica.active ? replica.receive(w.request, this.#now()) : replica.relay(w.request, this.#now());
    this.#count('request', out.outcome.ok ? 'accepted' : out.outcome.reason);
    if (!out.outcome.ok && out.outcome.reason !== 'duplicate') {
      this.#removeWaiter(w);
      clearTimeout(w.timer);
      const map = REQUEST_REJECTS[out.outcome.reason] ?? { status: 400, code: 'REJECTED' };
      w.resolve({ ok: false, ...map, message: out.outcome.detail });
    }
    this.#handle(out);
  }

  // ---- inputs --------------------------------------------------------------------------

  /** A frame from validator `_from`: what the transport hands over (public for tests). */
  receiveFrame(_from: number, frame: Uint8Array): void {
    if (!this.#running || this.#replica === null || this.#failed !== null) return;
    const decoded = decodePbftMessage(frame, this.#transport?.opts.maxFrameBytes);
    if (!decoded.ok) {
      this.#count('undecodable', 'malformed');
      return;
    }
    const message = decoded.message;
    this.#enqueue(message, () => {
      const replica = this.#replica;
      if (!this.#running || replica === null || this.#failed !== null) return;
      const out = replica.receive(message, this.#now());
      this.#count(message.type, out.outcome.ok ? 'accepted' : out.outcome.reason);
      this.#handle(out);
    });
  }

  /**
   * Runs `run` (which hands `m` to the replica) once every input before it has run and
   * the signatures `m` carries are checked ahead (by the pool, or in slices on the event
   * loop for a proposal's batch); at once when nothing waits and the slice has time left.
   */
  #enqueue(m: PbftMessage, run: () => void): void {
    // A STATUS asking for VIEW-CHANGEs comes from a replica holding a NEW-VIEW back: it
    // waits on the answer as it would on the NEW-VIEW itself.
    const urgent =
      m.type === 'view-change' || m.type === 'new-view' || (m.type === 'status' && m.missingViewChanges.length > 0);
    const ready = urgent ? null : this.#pool === null ? this.#checkBatchInSlices(m) : this.#checkInPool(m, this.#pool);
    const idle = this.#inbox.length === 0 && this.#urgent.length === 0;
    if (ready === null && (urgent || idle) && !this.#sliceSpent()) {
      run();
      return;
    }
    if (urgent) {
      this.#urgent.push(run);
      this.#wakePump?.();
    } else {
      this.#inbox.push({ ready, run, atMs: this.#now() });
    }
    if (!this.#pumping) void this.#pump();
  }

  /**
   * True once the current slice of input handling has used SLICE_CPU_MICROS; starts a slice
   * (ending when I/O has had its turn) if none is running.
   */
  #sliceSpent(): boolean {
    if (!this.#sliceRunning) {
      this.#sliceRunning = true;
      this.#slice.start();
      setImmediate(() => {
        this.#sliceRunning = false;
      });
      return false;
    }
    return this.#slice.spent();
  }

  /**
   * Checks the request signatures of a proposal's batch into the verifier's cache, a slice
   * at a time, so the replica's own check of the batch finds them there; null for any
   * other input. An invalid signature is not cached: the replica finds it and refuses the
   * proposal as it would have.
   */
  #checkBatchInSlices(m: PbftMessage): Promise<void> | null {
    if (m.type !== 'proposal' || m.batch.length === 0) return null;
    const verifier = this.#verifier;
    const batch = m.batch;
    const view = m.prePrepare.view;
    return (async () => {
      for (const r of batch) {
        if (this.#sliceSpent()) await yieldToIo();
        const replica = this.#replica;
        // Not for the view this replica is active in: it refuses the proposal unchecked.
        if (!this.#running || replica === null || replica.view !== view || !replica.active) return;
        // verify() answers a known-valid request from the cache and remembers a new one;
        // with no cache there is nothing to fill (the replica checks each itself).
        if (!verifier.remembers || !verifier.verify(r, r.client)) return;
      }
    })();
  }

  #checkInPool(m: PbftMessage, pool: SignaturePool): Promise<unknown> | null {
    const checks: Promise<void>[] = [];
    const check = (signed: PbftSignedMessage, key: Uint8Array | undefined): void => {
      if (key === undefined) return;
      const c = this.#verifier.pendingCheck(signed, key);
      if (c === null) return;
      checks.push(
        pool.verify(c).then(
          (valid) => {
            if (valid) this.#verifier.remember(signed, key);
          },
          () => undefined, // the replica checks it itself
        ),
      );
    };
    const keys = this.set.validators;
    switch (m.type) {
      case 'request':
        check(m, m.client);
        break;
      case 'proposal':
        check(m.prePrepare, keys[m.prePrepare.replica]?.publicKey);
        for (const r of m.batch) check(r, r.client);
        break;
      case 'prepare':
      case 'commit':
      case 'checkpoint':
      case 'status':
        check(m, keys[m.replica]?.publicKey);
        break;
      default:
      // view changes, NEW-VIEWs, certificates, state transfers: rare; the replica checks them.
    }
    return checks.length === 0 ? null : checks.length === 1 ? checks[0]! : Promise.all(checks);
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#inbox.length > 0 || this.#urgent.length > 0) {
        if (this.#sliceSpent()) {
          await yieldToIo(); // stop() may empty the queues meanwhile: look again
          continue;
        }
        const urgent = this.#urgent.shift();
        if (urgent !== undefined) {
          urgent();
          continue;
        }
        const head = this.#inbox[0]!;
        if (head.ready !== null) {
          // Never rejects. An urgent input arriving meanwhile does not wait for it.
          const woken = new Promise<void>((resolve) => {
            this.#wakePump = resolve;
          });
          await Promise.race([head.ready, woken]);
          this.#wakePump = null;
          if (this.#urgent.length > 0) continue;
          await head.ready;
        }
        // stop() may have emptied the inbox meanwhile.
        if (this.#inbox[0] !== head) continue;
        this.#inbox.shift();
        head.run();
        if (this.#heldStatusTimer !== null && !this.#backlogged()) this.#fireHeldStatus();
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#heldStatusTimer !== null) this.#fireHeldStatus();
    const held = this.#heldBatchTimer;
    if (held !== null) {
      this.#heldBatchTimer = null;
      this.#onTimer('batch', held);
    }
  }

  #onTimer(timer: PbftTimer, atMs: number): void {
    const replica = this.#replica;
    if (!this.#running || replica === null || this.#failed !== null) return;
    const now = this.#now();
    // setTimeout counts whole milliseconds and may fire a fraction early by this clock:
    // the replica would take that as a stale firing, so wait out the rest.
    if (now < atMs) {
      this.#setTimer(timer, atMs);
      return;
    }
    this.#timers.delete(timer);
    if (timer === 'status' && this.#backlogged()) {
      // Peers answer a STATUS by re-sending what it seems to lack (votes, commit
      // certificates, VIEW-CHANGEs, the NEW-VIEW), and what it lacks may only be queued
      // here. Asked again and again, they grew the queue of a replica that was behind
      // (n = 16 on two cores) to thousands of inputs, which it never worked off.
      this.#heldStatusTimer = atMs;
      return;
    }
    if (timer === 'batch' && this.#inbox.length > 0) {
      // Inputs are still queued (a burst handed over in slices): they may fill the batch,
      // so its delay runs out only once they are in. The replica ignores the firing if its
      // deadline moved meanwhile.
      this.#heldBatchTimer = atMs;
      return;
    }
    this.#handle(replica.onTimer(timer, now));
  }

  /** True while the oldest queued input has waited longer than a STATUS interval. */
  #backlogged(): boolean {
    const head = this.#inbox[0];
    return head !== undefined && this.#now() - head.atMs > this.#statusIntervalMs();
  }

  #statusIntervalMs(): number {
    return this.opts.replica.statusIntervalMs ?? defaultPbftOptions.statusIntervalMs;
  }

  #fireHeldStatus(): void {
    const atMs = this.#heldStatusTimer!;
    this.#heldStatusTimer = null;
    this.#onTimer('status', atMs);
  }

  #setTimer(timer: PbftTimer, atMs: number): void {
    const handle = setTimeout(() => this.#onTimer(timer, atMs), Math.max(0, Math.ceil(atMs - this.#now())));
    handle.unref();
    this.#timers.set(timer, { handle, atMs });
  }

  // ---- carrying out an output -------------------------------------------------------------

  #handle(out: PbftOutput): void {
    for (const t of out.timers) {
      const old = this.#timers.get(t.timer);
      if (old !== undefined) clearTimeout(old.handle);
      if (t.atMs === null) this.#timers.delete(t.timer);
      else this.#setTimer(t.timer, t.atMs);
    }
    for (const e of out.events) {
      if (e.kind === 'new-view') queueMicrotask(() => this.#retransmit(true));
      if (e.kind === 'view-change-started') this.#m.metrics.pbftViewChanges.inc();
      else this.#m.metrics.pbftEvents.inc({ kind: e.kind });
      if (
        e.kind === 'view-change-started' ||
        e.kind === 'new-view' ||
        e.kind === 'new-view-incomplete' ||
        e.kind === 'state-transferred'
      ) {
        this.#m.logger.info(
          {
            event: e.kind,
            view: 'view' in e ? e.view : undefined,
            seq: 'seq' in e ? e.seq : undefined,
            missing: 'missing' in e ? e.missing : undefined,
          },
          'pbft',
        );
      } else if (e.kind === 'checkpoint-mismatch' || e.kind === 'refused-conflicting-vote') {
        this.#m.logger.warn({ event: e }, 'pbft');
      }
    }
    if (out.persist.length === 0 && this.#writing === null) {
      this.#effects(out);
      return;
    }
    this.#queue.push(out);
    if (this.#writing === null) this.#writing = this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const outs = this.#queue;
        this.#queue = [];
        const records = outs.flatMap((o) => o.persist);
        if (records.length > 0) {
          const t0 = performance.now();
          try {
            await this.#wal!.append(records);
          } catch (err) {
            this.#fail(err as Error);
            return;
          }
          this.#m.metrics.pbftWalWriteSeconds.observe((performance.now() - t0) / 1000);
        }
        for (const o of outs) this.#effects(o);
      }
    } finally {
      this.#writing = null;
    }
  }

  #fail(err: Error): void {
    this.#failed = err;
    this.#queue = [];
    for (const t of this.#timers.values()) clearTimeout(t.handle);
    this.#timers.clear();
    this.#m.logger.fatal(
      { err },
      'the PBFT write-ahead log could not be written; the replica stopped (restart the node once the disk is fixed)',
    );
    for (const list of this.#waiters.values()) {
      for (const w of list) {
        clearTimeout(w.timer);
        w.resolve({
          ok: false,
          status: 503,
          code: 'CONSENSUS_UNAVAILABLE',
          message: `the PBFT replica stopped: ${err.message}`,
        });
      }
    }
    this.#waiters.clear();
  }

  /** Messages, replies and executions of an output whose records are durable. */
  #effects(out: PbftOutput): void {
    if (!this.#running) return;
    const transport = this.#transport!;
    for (const s of out.send) {
      const bytes = encodePbftMessage(s.message);
      if (s.to === 'all') transport.broadcast(bytes);
      else transport.send(s.to, bytes);
    }
    if (out.committed.length > 0) {
      for (const c of out.committed) for (const l of this.#listeners) l(c);
      this.#updateGauges();
    }
    // Every replica outputs a REPLY for every request it executes (so for every request
    // of out.committed), and again for a retransmitted one it executed before; only those
    // a client waits for here are read (and so signed: once per batch, whichever of its
    // replies is read first). No waiters (a backup, mostly), nothing to look up.
    if (this.#waiters.size > 0) {
      for (const r of out.replies) {
        const client = hex(r.client);
        const list = this.#waiters.get(client);
        if (list !== undefined) this.#answerExecuted(client, list, r);
      }
    }
    if (out.events.length > 0) this.#updateGauges();
  }

  /**
   * `client`'s request at `r.timestamp` executed: its waiters get the REPLY, and those of
   * its older requests 409, since they never will (exactly-once: the replica drops a
   * timestamp at or below one it executed). Newer ones keep waiting.
   */
  #answerExecuted(client: string, list: Waiter[], r: PbftClientReply): void {
    let keep: Waiter[] | null = null;
    let now = 0;
    // Read `r.message` (which signs the REPLY) only when a client waits for it.
    let m: PbftReply | null = null;
    for (const w of list) {
      if (w.timestamp > r.timestamp) {
        if (keep === null) keep = [w];
        else keep.push(w);
        continue;
      }
      clearTimeout(w.timer);
      if (w.timestamp < r.timestamp) {
        w.resolve({
          ok: false,
          status: 409,
          code: 'STALE_REQUEST',
          message: `a newer request of this client (timestamp ${r.timestamp}) executed first; timestamp ${w.timestamp} never will`,
        });
        continue;
      }
      if (m === null) {
        m = r.message;
        now = this.#now();
      }
      this.#m.metrics.pbftCommitLatency.observe((now - w.startedAt) / 1000);
      w.resolve({
        ok: true,
        seq: r.seq,
        view: m.view,
        result: m.result,
        replica: m.replica,
        proof: m.proof,
        signature: m.signature,
      });
    }
    if (keep === null) this.#waiters.delete(client);
    else if (keep.length < list.length) this.#waiters.set(client, keep);
  }

  /**
   * Hands waiting requests to the replica again: those due (retransmit.ts), or after a
   * NEW-VIEW all of them. They go through the input queue like any input, so a burst (a
   * thousand clients waiting when the view changes) is handed over in slices too.
   */
  #retransmit(newView: boolean): void {
    const replica = this.#replica;
    if (!this.#running || replica === null || this.#failed !== null) return;
    const now = this.#now();
    for (const list of this.#waiters.values()) {
      for (let i = 0; i < list.length; i++) {
        const w = list[i]!;
        // One retransmission per request: the first of its waiters stands for the rest.
        if (waitsEarlier(list, i)) continue;
        if (newView) restartedInNewView(w.retransmit, now);
        else if (isDue(w.retransmit, now)) retransmitted(w.retransmit, now);
        else continue;
        const toAll = !newView && broadcastsNow(w.retransmit);
        this.#m.metrics.pbftRequestRetransmits.inc();
        this.#enqueue(w.request, () => {
          // Answered, or the node stopped, while it waited in the queue.
          if (!this.#running || this.#failed !== null || this.#replica !== replica) return;
          if (!this.#waiters.get(w.client)?.includes(w)) return;
          const now = this.#now();
          const relay = toAll || !replica.active;
          this.#handle(relay ? replica.relay(w.request, now) : replica.receive(w.request, now));
        });
      }
    }
  }

  #addWaiter(w: Waiter): void {
    const list = this.#waiters.get(w.client);
    if (list === undefined) this.#waiters.set(w.client, [w]);
    else list.push(w);
  }

  #removeWaiter(w: Waiter): void {
    const list = this.#waiters.get(w.client);
    const i = list?.indexOf(w) ?? -1;
    if (i < 0) return;
    list!.splice(i, 1);
    if (list!.length === 0) this.#waiters.delete(w.client);
  }

  #count(type: PbftMessage['type'] | 'undecodable', result: string): void {
    this.#m.metrics.countPbftMessage(type, result);
  }

  #updateGauges(): void {
    const r = this.#replica;
    if (r === null) return;
    this.#m.metrics.pbftView.set(r.view);
    this.#m.metrics.pbftExecutedSeq.set(r.lastExecuted);
    this.#m.metrics.pbftStableCheckpoint.set(r.stableCheckpoint);
    this.#m.metrics.pbftPipelineWindow.set(r.pipelineWindow);
  }
}

/** Whether a waiter before `list[i]` waits for the same request (the same timestamp). */
function waitsEarlier(list: readonly Waiter[], i: number): boolean {
  for (let j = 0; j < i; j++) if (list[j]!.timestamp === list[i]!.timestamp) return true;
  return false;
}
