/**
 * Byzantine behaviours for the simulator. A Byzantine node runs the real replica and a
 * strategy rewrites what it sends, with its own (valid) key: the replica's view of the
 * world stays consistent while its peers see lies. At most f nodes behave like this in
 * a run that must stay safe.
 */
import type { Ed25519Signer } from '../../protocol/crypto/ed25519.ts';
import { batchDigest, signPbft } from '../../protocol/pbft/sign.ts';
import type {
  PbftCheckpoint,
  PbftCommit,
  PbftMessage,
  PbftNewView,
  PbftPrePrepare,
  PbftPrepare,
  PbftReply,
  PbftViewChange,
} from '../../protocol/pbft/types.ts';
import type { Prng } from './prng.ts';

export const BYZANTINE_BEHAVIOURS = ['silent', 'equivocate', 'forge', 'replay', 'wrong-digest'] as const;
export type ByzantineBehaviour = (typeof BYZANTINE_BEHAVIOURS)[number];

export class ByzantineStrategy {
  readonly behaviour: ByzantineBehaviour;
  readonly #index: number;
  readonly #n: number;
  readonly #signer: Ed25519Signer;
  readonly #prng: Prng;
  /** Messages this node received, for replaying later. */
  readonly #seen: PbftMessage[] = [];

  constructor(behaviour: ByzantineBehaviour, index: number, n: number, signer: Ed25519Signer, prng: Prng) {
    this.behaviour = behaviour;
    this.#index = index;
    this.#n = n;
    this.#signer = signer;
    this.#prng = prng;
  }

  observe(m: PbftMessage): void {
    if (this.behaviour !== 'replay' || m.type === 'request') return;
    if (this.#seen.length < 256) this.#seen.push(m);
    else this.#seen[this.#prng.int(256)] = m;
  }

  /** What this node sends to `to` instead of `m` (possibly nothing, possibly more). */
  rewrite(m: PbftMessage, to: number): PbftMessage[] {
    const p = this.#prng;
    switch (this.behaviour) {
      case 'silent':
        return [];
      case 'equivocate':
        // Half the replicas (by index parity) get another batch at the same (view, sequence).
        if (m.type === 'proposal' && to % 2 === 0) {
          const batch = m.batch.length > 1 ? m.batch.slice(0, -1) : [];
          const pp = signPbft<PbftPrePrepare>(
            { ...m.prePrepare, type: 'pre-prepare', digest: batchDigest(batch) } as Omit<PbftPrePrepare, 'signature'>,
            this.#signer,
          );
          return [{ type: 'proposal', prePrepare: pp, batch }];
        }
        if ((m.type === 'prepare' || m.type === 'commit') && p.chance(0.3)) return [this.#wrongVote(m)];
        // Two VIEW-CHANGEs for one view: half the replicas get one that leaves out its
        // last prepared certificate. A NEW-VIEW may name either, by digest.
        if (m.type === 'view-change' && to % 2 === 0 && m.prepared.length > 0) {
          const { signature: _s, ...rest } = m;
          return [
            signPbft<PbftViewChange>(
              { ...rest, prepared: m.prepared.slice(0, -1) } as Omit<PbftViewChange, 'signature'>,
              this.#signer,
            ),
          ];
        }
        return [m];
      case 'forge': {
        if (m.type !== 'prepare' && m.type !== 'commit' && m.type !== 'checkpoint') return [m];
        const other = (this.#index + 1 + p.int(this.#n - 1)) % this.#n;
        // Claims to be another replica: signed with this node's key, or random bytes.
        const forged = p.chance(0.5)
          ? signPbft({ ...m, replica: other } as never, this.#signer)
          : ({ ...m, replica: other, signature: p.bytes(64) } as PbftMessage);
        return [m, forged as PbftMessage];
      }
      case 'replay': {
        const old = this.#seen.length > 0 && p.chance(0.4) ? [p.pick(this.#seen)] : [];
        return [m, ...old];
      }
      case 'wrong-digest':
        if (m.type === 'prepare' || m.type === 'commit') return [this.#wrongVote(m)];
        // As a new primary: a NEW-VIEW naming a VIEW-CHANGE no one holds. Replicas hold it
        // back, ask for the VIEW-CHANGE in vain, and move on to the next view.
        if (m.type === 'new-view' && m.viewChanges.length > 0) {
          const { signature: _s, ...rest } = m;
          const [first, ...others] = m.viewChanges;
          return [
            signPbft<PbftNewView>(
              { ...rest, viewChanges: [{ replica: first!.replica, digest: p.bytes(32) }, ...others] } as Omit<
                PbftNewView,
                'signature'
              >,
              this.#signer,
            ),
          ];
        }
        if (m.type === 'checkpoint') {
          const { signature: _s, ...rest } = m;
          return [
            signPbft<PbftCheckpoint>(
              { ...rest, stateDigest: p.bytes(32) } as Omit<PbftCheckpoint, 'signature'>,
              this.#signer,
            ),
          ];
        }
        return [m];
    }
    return [m];
  }

  /**
   * What this node replies to a client instead of `r`. A lie is re-signed with this
   * node's key: the changed result is another leaf, so `r`'s signature would not cover
   * it, and signPbft signs the root the kept proof folds the new leaf to. Clients must
   * then refuse it by the f + 1 rule, not by its signature.
   */
  rewriteReply(r: PbftReply): PbftReply[] {
    if (this.behaviour === 'silent') return [];
    if (this.behaviour !== 'wrong-digest' && this.behaviour !== 'equivocate') return [r];
    const { signature: _s, ...rest } = r;
    return [
      signPbft<PbftReply>({ ...rest, result: this.#prng.bytes(8) } as Omit<PbftReply, 'signature'>, this.#signer),
    ];
  }

  #wrongVote(m: PbftPrepare | PbftCommit): PbftMessage {
    const { signature: _s, ...rest } = m;
    return signPbft({ ...rest, digest: this.#prng.bytes(32) } as never, this.#signer);
  }
}
