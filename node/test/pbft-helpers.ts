/** Helpers for the PBFT daemon tests: clients that keep a cluster busy, and committed logs. */

import { writeFileSync } from 'node:fs';
import { encodeKvOperation } from '../../consensus/pbft/kv-app.ts';
import type { PbftOptions } from '../../consensus/pbft/options.ts';
import type { PbftCommitted } from '../../consensus/pbft/output.ts';
import { Ed25519Signer } from '../../protocol/crypto/ed25519.ts';
import { signRequest } from '../../protocol/pbft/sign.ts';
import type { PbftRequest } from '../../protocol/pbft/types.ts';
import { peerIdOfKey, renderValidatorSet } from '../consensus/validator-set.ts';
import type { BizraNode } from '../node.ts';

/** Writes a validator-set file at `path` naming these keys, in order, with no addresses. */
export function writeValidatorSet(
  path: string,
  chainId: string,
  params: Pick<PbftOptions, 'checkpointInterval' | 'logWindow' | 'batchSize'>,
  keys: readonly Uint8Array[],
): void {
  const validators = keys.map((publicKey) => ({ publicKey, peerId: peerIdOfKey(publicKey), addresses: [] }));
  writeFileSync(path, renderValidatorSet({ chainId, params, validators }));
}

export const clientSigner = (i: number): Ed25519Signer =>
  Ed25519Signer.fromSeed(Uint8Array.from({ length: 32 }, (_, k) => (200 + i * 7 + k) & 0xff));

/** Every node's executed batches as `seq:digest`, by replica index, kept across restarts of a node. */
export class CommittedLogs {
  readonly logs = new Map<number, Map<number, string>>();

  watch(node: BizraNode): void {
    const c = node.consensus;
    if (!c?.isValidator) return;
    const log = this.logs.get(c.index) ?? new Map<number, string>();
    this.logs.set(c.index, log);
    c.onCommitted((b: PbftCommitted) => log.set(b.seq, Buffer.from(b.digest).toString('hex')));
  }

  /** Sequence numbers at which two replicas executed different batches (must be none). */
  conflicts(): string[] {
    const bySeq = new Map<number, Set<string>>();
    for (const log of this.logs.values()) {
      for (const [seq, d] of log) {
        const s = bySeq.get(seq) ?? new Set<string>();
        s.add(d);
        bySeq.set(seq, s);
      }
    }
    return [...bySeq].filter(([, s]) => s.size > 1).map(([seq, s]) => `seq ${seq}: ${[...s].join(' vs ')}`);
  }
}

export interface LoadStats {
  committed: number;
  /** Commits answered after `markAt` was set, with the view they committed in. */
  after: { view: number; seq: number }[];
  retries: number;
  errors: string[];
}

/**
 * `clients` clients, each submitting one request at a time (a put of a fresh key) to a
 * live validator chosen round-robin; on a timeout or a stopped node the same signed
 * request goes to the next one (it executes once whatever happens).
 */
export function runLoad(
  nodes: () => BizraNode[],
  opts: { clients: number; isLive: (i: number) => boolean; stop: AbortSignal; timeoutMs?: number },
): { stats: LoadStats; mark: () => void; done: Promise<void> } {
  const stats: LoadStats = { committed: 0, after: [], retries: 0, errors: [] };
  let marked = false;
  const run = async (c: number) => {
    const signer = clientSigner(c);
    let target = c;
    for (let ts = 1; !opts.stop.aborted; ts++) {
      const request: PbftRequest = signRequest(
        signer,
        ts,
        encodeKvOperation({ op: 'put', key: `c${c}-${ts}`, value: String(ts) }),
      );
      while (!opts.stop.aborted) {
        const list = nodes();
        let i = target % list.length;
        for (let k = 0; k < list.length && !(opts.isLive(i) && list[i]?.running); k++) i = (i + 1) % list.length;
        target = i + 1;
        const node = list[i];
        if (node?.consensus === undefined || !node.running) {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        const answer = await node.consensus.submit(request, opts.timeoutMs ?? 3000);
        if (answer.ok) {
          stats.committed++;
          if (marked) stats.after.push({ view: answer.view, seq: answer.seq ?? -1 });
          break;
        }
        stats.retries++;
        if (
          answer.code !== 'COMMIT_TIMEOUT' &&
          answer.code !== 'SHUTTING_DOWN' &&
          answer.code !== 'CONSENSUS_UNAVAILABLE'
        ) {
          stats.errors.push(`${answer.code}: ${answer.message}`);
          break;
        }
      }
    }
  };
  const done = Promise.all(Array.from({ length: opts.clients }, (_, c) => run(c))).then(() => undefined);
  return {
    stats,
    mark: () => {
      marked = true;
    },
    done,
  };
}

export async function until(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
