/**
 * A tiny synchronous cluster for PBFT unit tests: n replicas with fixed keys, FIFO
 * delivery of everything they send (a filter may drop messages), a manual clock, and
 * helpers that sign messages as any validator or client would.
 */
import { Ed25519Signer } from '../../protocol/crypto/ed25519.ts';
import { batchDigest, signPbft, signRequest } from '../../protocol/pbft/sign.ts';
import type {
  PbftCheckpoint,
  PbftCommit,
  PbftMessage,
  PbftPrePrepare,
  PbftPrepare,
  PbftProposal,
  PbftReply,
  PbftRequest,
} from '../../protocol/pbft/types.ts';
import { PbftVerifier } from '../../protocol/pbft/verifier.ts';
import { encodeKvOperation, KvApp } from '../pbft/kv-app.ts';
import type { PbftOptions } from '../pbft/options.ts';
import type { PbftOutput, PbftTimer } from '../pbft/output.ts';
import { PbftReplica } from '../pbft/replica.ts';
import { MemoryWal } from '../pbft/wal.ts';

export const seedOf = (i: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, k) => (i * 31 + k) & 0xff);

export const TEST_OPTIONS: Partial<PbftOptions> = {
  checkpointInterval: 4,
  logWindow: 8,
  batchSize: 2,
  batchDelayMs: 0,
  // As many partial batches in flight as the log window holds: each request its own batch.
  partialBatchWindow: 8,
  viewChangeTimeoutMs: 100,
  statusIntervalMs: 1000,
};

export interface Envelope {
  readonly from: number;
  readonly to: number;
  readonly message: PbftMessage;
}

export class Cluster {
  readonly n: number;
  readonly signers: Ed25519Signer[];
  readonly keys: Uint8Array[];
  readonly verifier = new PbftVerifier();
  readonly replicas: (PbftReplica | null)[];
  readonly apps: KvApp[];
  readonly wals: MemoryWal[];
  readonly opts: Partial<PbftOptions>;
  readonly client = Ed25519Signer.fromSeed(seedOf(100));
  readonly queue: Envelope[] = [];
  readonly replies: PbftReply[] = [];
  readonly timers: Map<PbftTimer, number | null>[];
  /** Return false to drop a message. */
  filter: (e: Envelope) => boolean = () => true;
  now = 1000;

  constructor(n = 4, opts: Partial<PbftOptions> = TEST_OPTIONS) {
    this.n = n;
    this.opts = opts;
    this.signers = Array.from({ length: n }, (_, i) => Ed25519Signer.fromSeed(seedOf(i + 1)));
    this.keys = this.signers.map((s) => s.publicKey);
    this.apps = this.signers.map(() => new KvApp());
    this.wals = this.signers.map(() => new MemoryWal());
    this.timers = this.signers.map(() => new Map());
    this.replicas = this.signers.map(
      (signer, id) =>
        new PbftReplica({ validators: this.keys, id }, opts, { signer, app: this.apps[id]!, verifier: this.verifier }),
    );
  }

  replica(i: number): PbftReplica {
    const r = this.replicas[i];
    if (r == null) throw new Error(`replica ${i} is down`);
    return r;
  }

  /** Carries out an output of replica `from`: WAL first, then messages into the queue. */
  apply(from: number, out: PbftOutput): PbftOutput {
    this.wals[from]!.append(out.persist);
    for (const s of out.send) {
      const targets = s.to === 'all' ? [...Array(this.n).keys()].filter((i) => i !== from) : [s.to];
      for (const to of targets) this.queue.push({ from, to, message: s.message });
    }
    for (const r of out.replies) this.replies.push(r.message);
    for (const t of out.timers) this.timers[from]!.set(t.timer, t.atMs);
    return out;
  }

  startAll(): void {
    for (let i = 0; i < this.n; i++) this.apply(i, this.replica(i).start(this.now));
    this.queue.length = 0; // the opening STATUS round carries nothing yet
  }

  /** Delivers queued messages FIFO until none are left (or `limit`). */
  run(limit = 100_000): number {
    let delivered = 0;
    while (this.queue.length > 0 && delivered < limit) {
      const e = this.queue.shift()!;
      const r = this.replicas[e.to];
      if (r == null || !this.filter(e)) continue;
      this.apply(e.to, r.receive(e.message, this.now));
      delivered++;
    }
    return delivered;
  }

  /** Advances the clock and fires every timer due. */
  advance(ms: number): void {
    this.now += ms;
    for (let i = 0; i < this.n; i++) {
      const r = this.replicas[i];
      if (r == null) continue;
      for (const [timer, at] of [...this.timers[i]!]) {
        if (at !== null && at !== undefined && at <= this.now) {
          this.timers[i]!.set(timer, null);
          this.apply(i, r.onTimer(timer, this.now));
        }
      }
    }
  }

  #timestamp = 0;

  request(key: string, value = 'v', signer = this.client): PbftRequest {
    return signRequest(signer, ++this.#timestamp, encodeKvOperation({ op: 'put', key, value }));
  }

  /** Hands a client request to replica `to` (as a client would) and runs the cluster. */
  submit(r: PbftRequest, to = 0): void {
    const rep = this.replicas[to];
    if (rep != null) this.apply(to, rep.receive(r, this.now));
    this.run();
  }

  crash(i: number): void {
    this.replicas[i] = null;
    this.timers[i]!.clear();
  }

  recover(i: number, records = this.wals[i]!.records()): PbftReplica {
    this.apps[i] = new KvApp();
    const r = PbftReplica.recover(
      { validators: this.keys, id: i },
      this.opts,
      {
        signer: this.signers[i]!,
        app: this.apps[i]!,
        verifier: this.verifier,
      },
      records,
    );
    this.replicas[i] = r;
    return r;
  }

  // ---- messages signed as any validator -------------------------------------------------

  prePrepare(signer: number, view: number, seq: number, batch: readonly PbftRequest[]): PbftPrePrepare {
    return signPbft<PbftPrePrepare>(
      { type: 'pre-prepare', view, seq, digest: batchDigest(batch), replica: signer },
      this.signers[signer]!,
    );
  }

  proposal(signer: number, view: number, seq: number, batch: readonly PbftRequest[]): PbftProposal {
    return { type: 'proposal', prePrepare: this.prePrepare(signer, view, seq, batch), batch };
  }

  vote<T extends 'prepare' | 'commit'>(
    type: T,
    signer: number,
    view: number,
    seq: number,
    digest: Uint8Array,
    replica = signer,
  ): T extends 'prepare' ? PbftPrepare : PbftCommit {
    return signPbft({ type, view, seq, digest, replica } as never, this.signers[signer]!) as never;
  }

  checkpoint(signer: number, seq: number, stateDigest: Uint8Array): PbftCheckpoint {
    return signPbft<PbftCheckpoint>({ type: 'checkpoint', seq, stateDigest, replica: signer }, this.signers[signer]!);
  }
}
