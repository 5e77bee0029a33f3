/** The validator set: n Ed25519 public keys, replica i being keys[i]. */
import { maxFaulty, quorumSize } from './quorum.ts';

export interface PbftValidatorSet {
  readonly keys: readonly Uint8Array[];
  readonly n: number;
  readonly f: number;
  /** ceil((n + f + 1) / 2): 2f + 1 when n = 3f + 1 */
  readonly quorum: number;
}

export function validatorSet(keys: readonly Uint8Array[]): PbftValidatorSet {
  if (keys.length === 0) throw new RangeError('the validator set is empty');
  const seen = new Set<string>();
  for (const [i, k] of keys.entries()) {
    if (!(k instanceof Uint8Array) || k.length !== 32) throw new RangeError(`validator ${i}: key must be 32 bytes`);
    const id = Buffer.from(k).toString('hex');
    if (seen.has(id)) throw new RangeError(`validator ${i}: key appears twice in the set`);
    seen.add(id);
  }
  return { keys: [...keys], n: keys.length, f: maxFaulty(keys.length), quorum: quorumSize(keys.length) };
}
